/**
 * `@IntegerInput()`: a whole-number field that may arrive as text (every query parameter does). A
 * decimal written plainly (digits, an optional minus sign and fraction: "30", "-2", "1.5") becomes a
 * number, so `@IsInt()`, `@Min()` and `@Max()` judge its value; anything else is left as it came, so
 * the field's `@IsInt()` refuses it by name with a 400.
 *
 * It replaces class-transformer's `@Type(() => Number)`, which calls `Number(value)` on whatever
 * arrives: `true` became 1, `[30]` 30, `""` 0 and `"0x10"` 16 (accepted without a word), and a
 * JSON object whose `toString` is not a function threw a TypeError out of the pipe (a 500).
 */
import { Transform } from "class-transformer";

const DECIMAL = /^-?[0-9]+(\.[0-9]+)?$/;

export function integerInput(value: unknown): unknown {
  return typeof value === "string" && DECIMAL.test(value) ? Number(value) : value;
}

export function IntegerInput(): PropertyDecorator {
  return Transform(({ value }) => integerInput(value));
}
