/**
 * Idempotency-Key on write endpoints: the same key (per signed-in member) with the same request
 * returns the first answer; the same key with a different request is refused (422); a key whose
 * first request is still running answers 409 with Retry-After (the seconds left on its lease).
 * A key whose holder stopped renewing its lease (the process died) is taken over by the next
 * retry: if the act was recorded under the key, the retry answers with that act; otherwise the
 * request runs. Server errors are not remembered, so a retry after a 5xx runs again (or answers
 * with the act it recorded). Leases and their storage: ./idempotency-keys.ts.
 */
import { createHash } from "node:crypto";
import {
  BadRequestException,
  CallHandler,
  ConflictException,
  HttpException,
  Injectable,
  UnprocessableEntityException,
  type ExecutionContext,
  type NestInterceptor,
} from "@nestjs/common";
import type { Request, Response } from "express";
import { Observable, defer, from, of, throwError } from "rxjs";
import { catchError, finalize, mergeMap } from "rxjs/operators";
import type { AuthUser } from "../auth/auth.decorators";
import { ActsService } from "./acts.service";
import { actView } from "./dto/act.dto";
import { IdempotencyKeys, runHoldingKey, type KeyHold } from "./idempotency-keys";
import { waitRequested } from "./act-spec";

/** Status of an accepted act, as every signed-act endpoint answers it. */
const ACT_ACCEPTED = 202;

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly keys: IdempotencyKeys,
    private readonly acts: ActsService,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<Request & { user?: AuthUser }>();
    const res = ctx.switchToHttp().getResponse<Response>();
    const key = req.header("idempotency-key");
    if (!key || !req.user) return next.handle();
    if (!/^[\x21-\x7e]{1,128}$/.test(key)) {
      return throwError(() => new BadRequestException("Idempotency-Key must be 1 to 128 printable ASCII characters."));
    }
    const address = req.user.address;
    const requestHash = createHash("sha256")
      .update(`${req.method} ${req.originalUrl.split("?")[0]}\n${JSON.stringify(req.body ?? null)}`)
      .digest("hex");
    return from(this.keys.claim(address, key, requestHash)).pipe(
      mergeMap((claim) => {
        switch (claim.outcome) {
          case "other_request":
            return throwError(() => new UnprocessableEntityException(`Idempotency-Key ${key} was already used for a different request.`));
          case "in_progress":
            res.setHeader("Retry-After", String(claim.retryAfterSeconds));
            return throwError(
              () => new ConflictException(`A request with Idempotency-Key ${key} is still in progress; retry after ${claim.retryAfterSeconds} s.`),
            );
          case "answered":
            if (claim.statusCode >= 400) {
              return throwError(() => new HttpException(JSON.parse(claim.responseBody) as Record<string, unknown>, claim.statusCode));
            }
            res.status(claim.statusCode);
            return of(JSON.parse(claim.responseBody) as unknown);
          case "claimed":
            return this.hold(claim.hold, res, () =>
              claim.actId === null ? runHoldingKey(claim.hold, () => next.handle()) : this.recordedAct(claim.actId, req, res),
            );
        }
      }),
    );
  }

  /** Runs `work` as the key's holder: renews the lease meanwhile, then stores or releases the key. */
  private hold(hold: KeyHold, res: Response, work: () => Observable<unknown>): Observable<unknown> {
    const timer = setInterval(() => void this.keys.renew(hold).catch(() => undefined), Math.max(250, Math.floor(this.keys.leaseMs / 3)));
    return work().pipe(
      mergeMap((body) => from(this.keys.answer(hold, res.statusCode, body)).pipe(mergeMap(() => of(body)))),
      catchError((err: unknown) => {
        const status = err instanceof HttpException ? err.getStatus() : 500;
        const work = status < 500 ? this.keys.answer(hold, status, (err as HttpException).getResponse()) : this.keys.release(hold);
        return from(work).pipe(mergeMap(() => throwError(() => err)));
      }),
      finalize(() => clearInterval(timer)),
    );
  }

  /** The answer for a key whose act was recorded by an earlier holder that never answered. */
  private recordedAct(actId: string, req: Request, res: Response): Observable<unknown> {
    return defer(async () => {
      const act = waitRequested(req.query) ? await this.acts.waitFor(actId) : await this.acts.findById(actId);
      res.status(ACT_ACCEPTED);
      return actView(act);
    });
  }
}
