/**
 * Validates an Ethereum address given either all lower-case or with a correct EIP-55 checksum.
 * Mixed case with a wrong checksum is refused: it is how a mistyped address shows itself.
 */
import { checksumOrNull } from "../../common/address";
import { ValidateBy, buildMessage, type ValidationOptions } from "class-validator";

export function isEvmAddress(value: unknown): value is string {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(value)) return false;
  if (value === value.toLowerCase()) return true;
  return checksumOrNull(value) === value;
}

export function IsEvmAddress(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: "isEvmAddress",
      validator: {
        validate: (v: unknown) => isEvmAddress(v),
        defaultMessage: buildMessage(
          (each) => `${each}$property must be a 0x-prefixed 20-byte hex address, all lower-case or EIP-55 checksummed`,
          options,
        ),
      },
    },
    options,
  );
}
