/**
 * An uploaded document enters a request as its hash: after multer has read the multipart field
 * `document`, this interceptor writes the file's SHA-256 (0x-prefixed) into the body field that
 * carries the hash (documentHash, creditNoteHash), or refuses the request if the client sent a
 * different hash there. It runs before the Idempotency-Key interceptor, so the key's request
 * fingerprint covers the file's content, not only the form fields: the same key with another file
 * is a different request.
 */
import { createHash } from "node:crypto";
import {
  Injectable,
  UnprocessableEntityException,
  mixin,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type Type,
} from "@nestjs/common";
import type { Observable } from "rxjs";

/** What multer (memory storage) leaves on the request for one file. */
export interface UploadedDocument {
  originalname: string;
  mimetype: string;
  size: number;
  buffer: Buffer;
}

export function sha256Hex(content: Buffer): string {
  return createHash("sha256").update(content).digest("hex");
}

/** An interceptor class putting the uploaded `document`'s SHA-256 into `body[field]`. */
export function DocumentHashInto(field: string): Type<NestInterceptor> {
  @Injectable()
  class DocumentHashInterceptor implements NestInterceptor {
    intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
      const req = ctx.switchToHttp().getRequest<{ file?: UploadedDocument; body?: Record<string, unknown> }>();
      if (req.file) {
        const actual = "0x" + sha256Hex(req.file.buffer);
        const body = (req.body ??= {});
        const given = body[field];
        if (typeof given === "string" && given.toLowerCase() !== actual) {
          throw new UnprocessableEntityException(
            `${field} ${given} does not match the uploaded document, whose SHA-256 is ${actual}: send the right file, or omit ${field}.`,
          );
        }
        body[field] = actual;
      }
      return next.handle();
    }
  }
  return mixin(DocumentHashInterceptor);
}
