/**
 * A boolean query flag in a DTO: exactly `true` or `false`. Query strings carry text, and a lenient
 * reading (anything else is false) turns a typo into the opposite of what the caller meant.
 */
import { applyDecorators } from "@nestjs/common";
import { Transform } from "class-transformer";
import { IsBoolean } from "class-validator";

export function BooleanFlag(): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => (value === "true" ? true : value === "false" ? false : value)),
    IsBoolean({ message: ({ property }) => `${property} must be true or false` }),
  );
}
