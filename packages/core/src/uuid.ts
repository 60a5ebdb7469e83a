let lastMs = -1;
let seq = 0;
// Random bytes drawn 256 ids at a time: one getRandomValues call per id costs ~9 µs in Node.
let pool: Uint8Array;
let at = 2304;

/**
 * UUID v7 (RFC 9562): 48-bit Unix ms timestamp, version, then random bits.
 * Ids from one page sort in call order: within one millisecond the 12-bit `rand_a` field is a
 * counter seeded at random (RFC 9562 6.2 method 1), so IndexedDB key order is queue order.
 */
export function uuidv7(now: number = Date.now()): string {
  // getRandomValues exists in every browser (insecure origins too) and Node 19+.
  if (at > 2295) (pool = crypto.getRandomValues(new Uint8Array(2304))), (at = 0);
  const r = pool.subarray(at, (at += 9));
  if (now > lastMs) (lastMs = now), (seq = r[0]! & 0x7f);
  // Same (or an earlier) millisecond: keep the previous time and count up.
  else if (++seq > 0xfff) (seq = 0), ++lastMs;
  let h = ((r[1]! & 0x3f) | 0x80).toString(16);
  for (let i = 2; i < 9; i++) h += (r[i]! + 256).toString(16).slice(1);
  const t = lastMs.toString(16).padStart(12, '0');
  return `${t.slice(0, 8)}-${t.slice(8)}-${(0x7000 | seq).toString(16)}-${h.slice(0, 4)}-${h.slice(4)}`;
}
