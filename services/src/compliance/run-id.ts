/**
 * Time-ordered identifiers (UUID version 7, RFC 9562) for compliance runs and their rows. Their
 * lower-case text sorts in creation order, also within one millisecond in this process (the
 * 12-bit rand_a field is a counter), so "newest run first" never depends on a clock tie.
 */
import { randomBytes } from "node:crypto";

let lastMs = 0;
let counter = 0;

export function timeOrderedId(now = Date.now()): string {
  let ms = Math.max(now, lastMs);
  if (ms === lastMs) {
    counter++;
    // 4,096 ids in one millisecond: borrow the next millisecond rather than wrap.
    if (counter > 0xfff) {
      ms++;
      counter = 0;
    }
  } else {
    counter = 0;
  }
  lastMs = ms;
  const b = randomBytes(16);
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
