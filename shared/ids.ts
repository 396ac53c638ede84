/**
 * Receivable ids: the one parser and the one formatter.
 *
 * A receivable id is the ERC-721 token id, a uint256. The API, the database and every report show
 * it as its canonical form, 0x and 64 lower-case hex digits (`receivableIdHex`). Clients may give
 * it as that form or as a decimal number; the parser checks the text against one grammar and the
 * value against 2^256, and says which of the two failed so each caller words its own refusal.
 * How the ledger derives ids from an invoice's fingerprint is fingerprint.ts's `receivableIdOf`.
 * No imports: the CLI loads this for every command and ethers only when it signs.
 */
const UINT256_LIMIT = 1n << 256n;

/** What the grammar accepts, in words for error messages. */
export const RECEIVABLE_ID_FORMS = "0x followed by 64 hex digits, or a decimal number below 2^256";

/** The full-width form (0x + 64 hex digits) or a decimal number: what path parameters take. */
export const RECEIVABLE_ID_PATTERN = /^(0x[0-9a-fA-F]{64}|[0-9]{1,78})$/;
/** Also 0x with fewer hex digits (leading zeros left out): what request bodies and the CLI take. */
export const RECEIVABLE_ID_SHORT_HEX_PATTERN = /^(0x[0-9a-fA-F]{1,64}|[0-9]{1,78})$/;

/** Why a text is not a receivable id: not in the grammar, or a number of 2^256 or more. */
export class ReceivableIdError extends Error {
  constructor(
    readonly reason: "form" | "range",
    readonly raw: string,
  ) {
    super(
      reason === "form"
        ? `"${raw.slice(0, 80)}" is not a receivable id: ${RECEIVABLE_ID_FORMS}`
        : `receivable id "${raw.slice(0, 80)}" does not fit 256 bits`,
    );
  }
}

/**
 * A receivable id as its uint256 value. `shortHex` also accepts 0x with fewer than 64 digits.
 * Throws ReceivableIdError; never trims or otherwise repairs the text.
 */
export function parseReceivableId(raw: string, opts: { shortHex?: boolean } = {}): bigint {
  const pattern = opts.shortHex ? RECEIVABLE_ID_SHORT_HEX_PATTERN : RECEIVABLE_ID_PATTERN;
  if (typeof raw !== "string" || !pattern.test(raw)) throw new ReceivableIdError("form", String(raw));
  const value = BigInt(raw);
  if (value >= UINT256_LIMIT) throw new ReceivableIdError("range", raw);
  return value;
}

/** A receivable id in its canonical form: 0x and 64 lower-case hex digits. */
export function receivableIdHex(id: bigint | string): string {
  return "0x" + BigInt(id).toString(16).padStart(64, "0");
}
