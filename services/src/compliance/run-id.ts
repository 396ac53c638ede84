/**
 * Time-ordered identifiers (UUID version 7, RFC 9562) for compliance runs and their rows. Their
 * lower-case text sorts in creation order, also within one millisecond in this process (the
 * 12-bit rand_a field is a counter), so "newest run first" never depends on a clock tie.
 */
import { randomFillSync } from "node:crypto";

let lastMs = 0;
let counter = 0;

// Random bytes are drawn from the CSPRNG 4 KiB at a time (256 ids) and each id takes 16 fresh ones:
// one randomFillSync call per id cost ~13 µs, and a 200-invoice act stores ~1,800 ids (one per
// rule outcome). Node's randomUUID pools its entropy the same way. No byte is ever handed out twice.
const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;

/** Offset in POOL of 16 fresh random bytes, which the caller may overwrite (they are never handed out again). */
function random16(): number {
  if (poolAt + 16 > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const at = poolAt;
  poolAt += 16;
  return at;
}

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
  // Written in place in the pool and read from there: no Buffer per id (a compliance run of a
  // 200-invoice act makes ~1,800 ids; the copies were ~6 % of the bytes a batch act allocates).
  const at = random16();
  POOL.writeUIntBE(ms, at, 6);
  POOL[at + 6] = 0x70 | (counter >> 8);
  POOL[at + 7] = counter & 0xff;
  POOL[at + 8] = 0x80 | (POOL[at + 8] & 0x3f);
  const h = POOL.toString("hex", at, at + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
