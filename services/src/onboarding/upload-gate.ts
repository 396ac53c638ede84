/**
 * Runs before multer reads an application's upload: an address that may not apply (a member, or
 * one with an application open) is refused before a byte of its documents is stored, and so is an
 * upload whose declared size (Content-Length) is beyond the applicant's or the store's cap. Once
 * the request is over, whatever it left in staging (refused, invalid, or failed) is removed.
 */
import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from "@nestjs/common";
import type { Request } from "express";
import { defer, from, throwError, type Observable } from "rxjs";
import { catchError, mergeMap } from "rxjs/operators";
import type { AuthUser } from "../auth/auth.decorators";
import { DocumentsStore, type StagedFile } from "../common/documents.store";
import { OnboardingService } from "./onboarding.service";

@Injectable()
export class ApplicationUploadGate implements NestInterceptor {
  constructor(private readonly onboarding: OnboardingService) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<Request & { user: AuthUser; files?: StagedFile[] }>();
    // Staged files go before the answer does, so a client that saw the answer sees them gone.
    const discard = () => DocumentsStore.discard(req.files ?? []);
    return defer(async () => {
      await this.onboarding.assertMayApply(req.user.address);
      const declared = Number(req.headers["content-length"] ?? 0);
      if (Number.isSafeInteger(declared) && declared > 0) await this.onboarding.assertUploadFits(req.user.address, declared);
    }).pipe(
      mergeMap(() => next.handle()),
      mergeMap(async (body: unknown) => {
        await discard();
        return body;
      }),
      catchError((err: unknown) => from(discard()).pipe(mergeMap(() => throwError(() => err)))),
    );
  }
}
