/**
 * The one exception filter: turns every error into a problem document (problem-details.ts) —
 * HTTP exceptions from the features, validation, throttling, body-parser refusals (413, malformed
 * JSON), routes that do not exist, and unexpected errors, which answer 500 without their internals.
 * Only 5xx are logged as errors; a 413 is a warning (a client sent too much, nothing failed).
 */
import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from "@nestjs/common";
import type { Request, Response } from "express";
import { describeError } from "../chain/errors";
import { codeForStatus, PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX, titleForCode, type ProblemDetails } from "./problem-details";

/** Members of Nest's default body that the problem document replaces. */
const REPLACED = new Set(["statusCode", "message", "type", "title", "status", "detail", "instance", "code"]);
const CODE = /^[A-Z][A-Za-z0-9]*$/;

/** Errors that carry their own 4xx status and say it may be shown (http-errors, as body-parser throws). */
function clientError(e: unknown): { status: number; message: string; type?: string } | null {
  if (typeof e !== "object" || e === null) return null;
  const x = e as { status?: unknown; statusCode?: unknown; expose?: unknown; message?: unknown; type?: unknown };
  const status = typeof x.status === "number" ? x.status : x.statusCode;
  if (typeof status !== "number" || status < 400 || status > 499 || x.expose !== true) return null;
  return { status, message: typeof x.message === "string" ? x.message : "", type: typeof x.type === "string" ? x.type : undefined };
}

export function problemFor(exception: unknown, req: Pick<Request, "method" | "originalUrl" | "url" | "route">): ProblemDetails {
  const instance = (req.originalUrl ?? req.url ?? "/").split("?")[0];
  let status = 500;
  let code = "InternalError";
  let detail = "The service met an unexpected error; it is logged with this request's x-request-id.";
  let extensions: Record<string, unknown> = {};
  if (exception instanceof HttpException) {
    status = exception.getStatus();
    code = codeForStatus(status);
    const body = exception.getResponse();
    if (typeof body === "string") {
      detail = body;
    } else {
      const b = body as Record<string, unknown>;
      if (typeof b.error === "string" && CODE.test(b.error)) code = b.error;
      if (typeof b.message === "string") detail = b.message;
      else if (Array.isArray(b.message)) detail = b.message.map(String).join("; ");
      else detail = exception.message;
      // A string `error` is the code (or Nest's status text); any other is a detail worth keeping.
      extensions = Object.fromEntries(Object.entries(b).filter(([k, v]) => !REPLACED.has(k) && !(k === "error" && typeof v === "string")));
    }
    // Nest's own answers before any handler ran: no route matched, or the body (or a path's
    // percent-encoding) did not parse.
    if (status === 404 && detail === `Cannot ${req.method} ${req.originalUrl ?? req.url}`) {
      code = "RouteNotFound";
      detail = `There is no route ${req.method} ${instance}; the API is described at /docs.`;
    } else if (status === 400 && code === "BadRequest" && !req.route) {
      code = "MalformedRequest";
      detail = `The request could not be parsed: ${detail}`;
    }
  } else {
    const e = clientError(exception);
    if (e) {
      status = e.status;
      code = e.type === "entity.too.large" ? "PayloadTooLarge" : e.type === "entity.parse.failed" ? "MalformedRequest" : codeForStatus(status);
      detail = e.message || codeForStatus(status);
    }
  }
  return {
    ...extensions,
    type: PROBLEM_TYPE_PREFIX + code,
    title: titleForCode(code),
    status,
    detail,
    instance,
    code,
    message: detail,
  };
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger("HTTP");

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== "http") throw exception;
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    const body = problemFor(exception, req);
    const where = `${req.method} ${body.instance}`;
    if (body.status >= 500) {
      this.logger.error(`${where} → ${body.status}: ${describeError(exception)}`, exception instanceof Error ? exception.stack : undefined);
    } else if (body.status === 413) {
      this.logger.warn(`${where} → 413: ${body.detail}`);
    }
    if (res.headersSent) {
      // A streamed answer failed midway: the status line is gone; end it so the client sees a cut.
      res.destroy();
      return;
    }
    res.status(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  }
}
