/**
 * Legal entity identifiers: the pure checks live in shared/entity-id.ts (re-exported here, with
 * the formats they check); this file adds the class-validator decorator for DTOs.
 *
 * - LEI (ISO 17442): 18 alphanumerics then 2 check digits; with letters mapped A=10 … Z=35 the
 *   whole string read as a number is ≡ 1 (mod 97) (ISO 7064 MOD 97-10, as IBAN).
 * - USCC, China's unified social credit code (GB 32100-2015): 18 characters from a 31-character
 *   alphabet (digits and capitals without I, O, S, V, Z); the 18th is the check character
 *   31 − (Σ value × weight mod 31), with 31 read as 0.
 */
import { registerDecorator, type ValidationArguments, type ValidationOptions } from "class-validator";
import { describeEntityIdProblem, isValidEntityId } from "../../../shared/entity-id";

export * from "../../../shared/entity-id";

/**
 * DTO decorator: the property must be a valid identifier of the type named by the sibling property
 * `typeField` ("LEI" | "USCC"). The message says what is wrong (format or check character).
 */
export function IsEntityId(typeField: string, options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: "isEntityId",
      target: target.constructor,
      propertyName: propertyName as string,
      constraints: [typeField],
      options,
      validator: {
        validate(value: unknown, args: ValidationArguments): boolean {
          const type = (args.object as Record<string, unknown>)[args.constraints[0] as string];
          return isValidEntityId(type, value);
        },
        defaultMessage(args: ValidationArguments): string {
          const type = (args.object as Record<string, unknown>)[args.constraints[0] as string];
          return `${args.property}: ${describeEntityIdProblem(type, args.value) ?? "invalid"}`;
        },
      },
    });
  };
}
