/**
 * Money as bigint fen end to end. Yuan strings are parsed by hand (never through JS numbers), so
 * "0.29" is exactly 29 fen and 18-digit amounts keep every digit.
 */
export const MAX_FEN = 2n ** 64n - 1n;

const PLAIN = /^(\d+)(?:\.(\d{1,2}))?$/;
const GROUPED = /^(\d{1,3}(?:,\d{3})+)(?:\.(\d{1,2}))?$/;

/**
 * Yuan written as decimal text ("1250.5", "1,250.50", "¥1250") to fen. Throws an Error whose
 * message says what is wrong: sign, more than 2 decimals, exponent, stray characters.
 */
export function yuanToFen(text: string): bigint {
  const s = text.trim().replace(/^[¥￥]\s*/, "");
  if (s === "") throw new Error("the amount is empty");
  if (/^[-+]/.test(s)) throw new Error(`"${text}" has a sign; amounts are positive yuan such as 1250.00`);
  if (/[eE]/.test(s)) throw new Error(`"${text}" is in exponent notation; write the amount in full, e.g. 1250000.00`);
  const m = PLAIN.exec(s) ?? GROUPED.exec(s);
  if (!m) {
    if (/^\d[\d,]*\.\d{3,}$/.test(s)) throw new Error(`"${text}" has more than 2 decimals; yuan amounts have at most 2 (fen)`);
    throw new Error(`"${text}" is not an amount in yuan (digits, optional thousands commas, at most 2 decimals, e.g. 1,250.50)`);
  }
  const whole = BigInt(m[1].replace(/,/g, ""));
  const frac = BigInt((m[2] ?? "").padEnd(2, "0"));
  return whole * 100n + frac;
}

/** A whole number of fen written as decimal digits ("125050") to bigint. */
export function parseFen(text: string): bigint {
  const s = text.trim();
  if (!/^\d+$/.test(s)) throw new Error(`"${text}" is not a whole number of fen (digits only, e.g. 125050 for 1,250.50 yuan)`);
  return BigInt(s);
}

/** Fen to yuan with 2 decimals and thousands commas: 125050n -> "1,250.50". */
export function fenToYuan(fen: bigint | string, opts: { group?: boolean } = {}): string {
  const v = typeof fen === "string" ? BigInt(fen) : fen;
  const neg = v < 0n;
  const a = neg ? -v : v;
  let whole = (a / 100n).toString();
  if (opts.group !== false) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${neg ? "-" : ""}${whole}.${(a % 100n).toString().padStart(2, "0")}`;
}

/** An amount given on the command line: yuan by default, fen when `fen` is set. Positive, fits 64 bits. */
export function amountArg(text: string, fen: boolean, what = "amount"): bigint {
  let v: bigint;
  try {
    v = fen ? parseFen(text) : yuanToFen(text);
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
  if (v <= 0n) throw new Error(`${what} must be above zero`);
  if (v > MAX_FEN) throw new Error(`${what} exceeds the ledger's maximum of ${fenToYuan(MAX_FEN)} yuan`);
  return v;
}
