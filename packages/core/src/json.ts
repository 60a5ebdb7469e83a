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

/**
 * UTF-8 byte length of a string (lone surrogates count 3, as their encoding U+FFFD). Allocates, but
 * runs off `track()`'s synchronous path, and is ~60 B gzipped smaller than a charCode loop.
 */
export const byteLength = (s: string): number => new TextEncoder().encode(s).length;
