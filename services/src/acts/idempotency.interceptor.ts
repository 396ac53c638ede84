/**
 * Idempotency-Key on write endpoints: the same key (per signed-in member) with the same request
 * returns the first answer; the same key with a different request is refused (422); a key whose
 * first request is still running answers 409. Server errors are not remembered, so a retry after
 * a 5xx runs again.
 */
import { createHash } from "node:crypto";
import {
  CallHandler,
  ConflictException,
  HttpException,
  Injectable,
  UnprocessableEntityException,
  BadRequestException,
  type ExecutionContext,
  type NestInterceptor,
} from "@nestjs/common";
import { InjectDataSource } from "@nestjs/typeorm";
import type { Request, Response } from "express";
import { Observable, from, of, throwError } from "rxjs";
import { catchError, mergeMap } from "rxjs/operators";
import { DataSource } from "typeorm";
import type { AuthUser } from "../auth/auth.decorators";
import { DbWriter } from "../database/db-writer";
import { IdempotencyKeyEntity } from "./entities/act.entity";

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly db: DbWriter,
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
    return from(this.claim(address, key, requestHash)).pipe(
      mergeMap((stored) => {
        if (stored) {
          res.status(stored.statusCode!);
          return of(JSON.parse(stored.responseBody!) as unknown);
        }
        return next.handle().pipe(
          mergeMap((body) => from(this.remember(address, key, res.statusCode, body)).pipe(mergeMap(() => of(body)))),
          catchError((err: unknown) => {
            const status = err instanceof HttpException ? err.getStatus() : 500;
            const work = status < 500 ? this.remember(address, key, status, (err as HttpException).getResponse(), true) : this.forget(address, key);
            return from(work).pipe(mergeMap(() => throwError(() => err)));
          }),
        );
      }),
    );
  }

  /** Returns the stored answer to replay, or null after claiming the key for this request. */
  private async claim(address: string, key: string, requestHash: string): Promise<IdempotencyKeyEntity | null> {
    return this.db.write(async (m) => {
      const found = await m.findOneBy(IdempotencyKeyEntity, { address, key });
      if (found) {
        if (found.requestHash !== requestHash) {
          throw new UnprocessableEntityException(`Idempotency-Key ${key} was already used for a different request.`);
        }
        if (found.statusCode === null) throw new ConflictException(`A request with Idempotency-Key ${key} is still being processed.`);
        if (found.statusCode >= 400) {
          throw new HttpException(JSON.parse(found.responseBody!) as Record<string, unknown>, found.statusCode);
        }
        return found;
      }
      await m.insert(IdempotencyKeyEntity, { address, key, requestHash, statusCode: null, responseBody: null, createdAt: Date.now() });
      return null;
    });
  }

  private async remember(address: string, key: string, statusCode: number, body: unknown, _error = false): Promise<void> {
    await this.db.write((m) =>
      m.update(IdempotencyKeyEntity, { address, key }, { statusCode, responseBody: JSON.stringify(body ?? null) }),
    );
  }

  private async forget(address: string, key: string): Promise<void> {
    await this.db.write((m) => m.delete(IdempotencyKeyEntity, { address, key }));
  }
}
