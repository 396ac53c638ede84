/**
 * Every error the API answers is an RFC 9457 problem document (`application/problem+json`):
 * `type` (a stable URI per kind of error), `title`, `status`, `detail` (what happened to this
 * request, in words a participant's IT person can act on), `instance` (the request path), `code`
 * (the stable name clients branch on) and extension members for details. Extension names are shared
 * by every feature: `failures` (compliance rules that failed: code, reason), `errors` (invalid
 * fields: field, messages), `complianceRunId`. `message` repeats `detail` for clients written
 * against Nest's default error body.
 *
 * Features throw Nest's HTTP exceptions as before; `{ error: Code, message, ...extensions }` as
 * the exception's body names the code and adds members. The exception filter
 * (problem.filter.ts) is the one place the document is built.
 */
import { STATUS_CODES } from "node:http";
import { applyDecorators } from "@nestjs/common";
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiResponse, getSchemaPath, type ApiResponseOptions } from "@nestjs/swagger";
import type { MediaTypeObject, OpenAPIObject, OperationObject } from "@nestjs/swagger/dist/interfaces/open-api-spec.interface";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";
/** Problem types are URNs: stable names that need no server to resolve (RFC 9457 §3.1.1). */
export const PROBLEM_TYPE_PREFIX = "urn:scf-ledger:problem:";

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  message: string;
  [extension: string]: unknown;
}

export class FieldErrorDto {
  @ApiProperty({ description: "Path of the invalid field in the request (dotted for nested fields)", example: "invoices.0.faceValue" })
  field!: string;

  @ApiProperty({ description: "Every rule the field breaks", type: [String], example: ["faceValue must be a decimal string"] })
  messages!: string[];
}

export class RuleFailureDto {
  @ApiProperty({ description: "Compliance rule code", example: "INVOICE_DUE_AFTER_ISSUE" })
  code!: string;

  @ApiProperty({ description: "Why the rule failed" })
  reason!: string;

  @ApiPropertyOptional({ description: "Index of the invoice in a batch the failure concerns" })
  invoice?: number;
}

export class ProblemDetailsDto {
  @ApiProperty({ description: "URI naming the kind of problem", example: `${PROBLEM_TYPE_PREFIX}ComplianceRefused` })
  type!: string;

  @ApiProperty({ description: "Short summary of the kind of problem", example: "Compliance refused" })
  title!: string;

  @ApiProperty({ description: "HTTP status code", example: 422 })
  status!: number;

  @ApiProperty({ description: "What went wrong with this request", example: "Compliance refused the invoice. INVOICE_DUE_AFTER_ISSUE: ..." })
  detail!: string;

  @ApiProperty({ description: "Path of the request this problem occurred on", example: "/receivables" })
  instance!: string;

  @ApiProperty({ description: "Stable error code to branch on (the last segment of `type`)", example: "ComplianceRefused" })
  code!: string;

  @ApiProperty({ description: "Same as `detail`, for clients reading Nest's default error body" })
  message!: string;

  @ApiPropertyOptional({ description: "Invalid fields (validation problems)", type: [FieldErrorDto] })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({ description: "Compliance rules that failed", type: [RuleFailureDto] })
  failures?: RuleFailureDto[];

  @ApiPropertyOptional({ description: "Id of the stored compliance run that refused the request" })
  complianceRunId?: string;
}

/** `Not Found` → `NotFound`: the code of an error that names none. */
export function codeForStatus(status: number): string {
  return (STATUS_CODES[status] ?? "Error").replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase());
}

/** `ComplianceRefused` → `Compliance refused`. */
export function titleForCode(code: string): string {
  const words = code.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2");
  return words.charAt(0) + words.slice(1).toLowerCase();
}

const DEFAULT_DESCRIPTIONS: Record<number, string> = {
  400: "Malformed request: `errors` lists each invalid field",
  401: "No valid session: sign in with Ethereum and send the bearer token",
  403: "The caller's roles or party to the record do not allow it",
  404: "Not found",
  409: "Conflicts with the ledger's current state or an earlier request",
  413: "The body or an upload is larger than allowed",
  422: "Refused by a rule (compliance `failures`, or the ledger contract's own refusal)",
  429: "Too many requests: slow down and retry later",
  500: "Unexpected error; nothing about it is disclosed but the request id in the log",
  503: "A part the service depends on is unavailable",
};

/** Models the problem schema refers to, for the document's `extraModels`. */
export const PROBLEM_MODELS = [ProblemDetailsDto, FieldErrorDto, RuleFailureDto];

/** One error response with the shared problem schema. */
export function problemResponse(status: number, description = DEFAULT_DESCRIPTIONS[status] ?? STATUS_CODES[status] ?? "Error"): ApiResponseOptions {
  return { status, description, content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDetailsDto) } } } };
}

/**
 * Declares error responses of an operation (or of every operation of a controller) with the shared
 * problem schema. Give a status, or `[status, description]` to say when it happens.
 */
export function ApiProblems(...responses: Array<number | [number, string]>): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(...PROBLEM_MODELS),
    ...responses.map((r) => ApiResponse(typeof r === "number" ? problemResponse(r) : problemResponse(r[0], r[1]))),
  ) as MethodDecorator & ClassDecorator;
}

/**
 * Gives every error response of the document the problem schema: responses declared with Nest's
 * own `@ApiForbiddenResponse({ description })` and the like carry only a description, and
 * libraries declare their own bodies (terminus's health report), which the exception filter turns
 * into problem documents anyway.
 */
export function withProblemSchemas(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths)) {
    for (const op of Object.values(item as Record<string, OperationObject>)) {
      if (!op || typeof op !== "object" || !op.responses) continue;
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) >= 400 && response && !("$ref" in response)) {
          response.content = problemResponse(Number(status)).content as Record<string, MediaTypeObject>;
        }
      }
    }
  }
  return document;
}
