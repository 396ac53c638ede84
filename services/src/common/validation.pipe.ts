/**
 * The global validation pipe: whitelisted DTOs as Nest's ValidationPipe checks them, with two
 * differences. A refusal is a `ValidationFailed` problem whose `errors` name every invalid field.
 * A boolean query or path parameter (`?wait=`) is `true` or `false` and nothing else: Nest's own
 * conversion turns any other text into `false`, so `?wait=maybe` would silently not wait.
 * A signed post of a registered act body (signed-body-memo.ts: the batch tokenisation) whose body
 * minus nonce, deadline and signature was validated without an error before (its unsigned post) has
 * only those three fields validated again.
 */
import { BadRequestException, ValidationPipe, type ArgumentMetadata, type ValidationError } from "@nestjs/common";
import type { ValidatorOptions } from "class-validator";
import { SignedBodyMemo } from "./signed-body-memo";
import { cacheValidationMetadata } from "./validation-metadata";

interface FieldError {
  field: string;
  messages: string[];
}

function fieldErrors(errors: ValidationError[], parent = ""): FieldError[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, messages: Object.values(e.constraints) }] : [];
    return [...own, ...fieldErrors(e.children ?? [], field)];
  });
}

export class ProblemValidationPipe extends ValidationPipe {
  readonly signedBodies = new SignedBodyMemo();

  constructor() {
    // Each DTO class's rules are looked up once, not per request (validation-metadata.ts).
    cacheValidationMetadata();
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
      exceptionFactory: (errors) => {
        const list = fieldErrors(errors);
        return new BadRequestException({
          error: "ValidationFailed",
          message: list.flatMap((f) => f.messages).join("; ") || "The request is malformed.",
          errors: list,
        });
      },
    });
  }

  protected validate(object: object, validatorOptions?: ValidatorOptions): Promise<ValidationError[]> {
    return this.signedBodies.validate(object, (o) => super.validate(o, validatorOptions));
  }

  protected transformPrimitive(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.metatype === Boolean && metadata.data && (metadata.type === "query" || metadata.type === "param")) {
      if (value !== undefined && value !== true && value !== false && value !== "true" && value !== "false") {
        const text = Array.isArray(value) ? "a repeated parameter" : JSON.stringify(value);
        throw new BadRequestException({
          error: "ValidationFailed",
          message: `${metadata.data} must be true or false, not ${text}.`,
          errors: [{ field: metadata.data, messages: [`${metadata.data} must be true or false`] }],
        });
      }
    }
    return super.transformPrimitive(value, metadata);
  }
}
