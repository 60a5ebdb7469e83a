/**
 * Serialise `value` to JSON; throws for what JSON cannot carry. Cycles and BigInt throw natively
 * (engines name the path, e.g. V8's "Converting circular structure to JSON --> ... property 'self'
 * closes the circle"); functions and symbols would be dropped silently, so they throw here.
 */
export function toJSON(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => {
    const t = typeof v;
    if (t == 'bigint' || t == 'function' || t == 'symbol') throw new TypeError(`"${key}" is a ${t}, not JSON`);
    return v;
  });
}

/** UTF-8 byte length of a string without allocating (surrogate pairs count 4). */
export function byteLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 0 : c < 0x800 || (c >= 0xd800 && c < 0xe000) ? 1 : 2;
  }
  return n;
}
