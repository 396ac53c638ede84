/** Money is bigint fen inside the page and decimal strings on the wire; people see yuan with two decimals. */

/** Fen to yuan with two decimals, grouped the way the locale groups digits: 100000000n -> "1,000,000.00". */
export function yuan(fen: bigint | string | null | undefined, locale?: string): string {
  if (fen === null || fen === undefined || fen === "") return "—";
  const v = typeof fen === "bigint" ? fen : BigInt(fen);
  const neg = v < 0n;
  const a = neg ? -v : v;
  // Intl formats bigint exactly; the fraction is appended by hand so no digit passes through a float.
  const whole = new Intl.NumberFormat(locale ?? "en").format(a / 100n);
  return `${neg ? "-" : ""}${whole}.${(a % 100n).toString().padStart(2, "0")}`;
}

/** Yuan typed by a person ("1,250.5", "¥1250") to fen; throws with what is wrong. */
export function yuanToFen(text: string): bigint {
  const s = text.trim().replace(/^[¥￥]\s*/, "").replace(/,/g, "");
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) throw new Error(`"${text}" is not an amount in yuan (digits, at most 2 decimals)`);
  return BigInt(m[1]) * 100n + BigInt((m[2] ?? "").padEnd(2, "0"));
}

/** A date in the user's locale (ISO string or unix seconds). */
export function day(value: string | number | bigint | null | undefined, locale?: string): string {
  if (value === null || value === undefined || value === "") return "—";
  const d = typeof value === "string" && !/^\d+$/.test(value) ? new Date(value) : new Date(Number(value) * 1000);
  return new Intl.DateTimeFormat(locale, { year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
}

export const short = (hex: string | null | undefined, n = 10) => (hex ? (hex.length > n + 4 ? `${hex.slice(0, n)}…` : hex) : "—");
