let lastMs = -1;
let seq = 0;
// Random bytes drawn 256 ids at a time: one getRandomValues call per id costs ~9 µs in Node.
let pool: Uint8Array;
let at = 2304;
// Two hex digits per byte value, and the id's time part for `lastMs`: number-to-hex conversion
// costs about 1 µs in V8, more than the rest of the id.
const HEX = Array.from({ length: 256 }, (_, i) => (i + 256).toString(16).slice(1));
let head = '';

/**
 * UUID v7 (RFC 9562): 48-bit Unix ms timestamp, version, then random bits.
 * Ids from one page sort in call order: within one millisecond the 12-bit `rand_a` field is a
 * counter seeded at random (RFC 9562 6.2 method 1), so IndexedDB key order is queue order.
 */
export function uuidv7(now: number = Date.now()): string {
  // getRandomValues exists in every browser (insecure origins too) and Node 19+.
  if (at > 2295) (pool = crypto.getRandomValues(new Uint8Array(2304))), (at = 0);
  const o = at;
  at += 9;
  if (now > lastMs) (lastMs = now), (seq = pool[o]! & 0x7f), (head = '');
  // Same (or an earlier) millisecond: keep the previous time and count up.
  else if (++seq > 0xfff) (seq = 0), ++lastMs, (head = '');
  if (!head) {
    const t = lastMs.toString(16).padStart(12, '0');
    head = `${t.slice(0, 8)}-${t.slice(8)}-7`;
  }
  let h = HEX[(pool[o + 1]! & 0x3f) | 0x80]!;
  for (let i = o + 2; i < at; i++) h += HEX[pool[i]!];
  return `${head}${HEX[seq >> 8]![1]}${HEX[seq & 255]}-${h.slice(0, 4)}-${h.slice(4)}`;
}
