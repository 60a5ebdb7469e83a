// Development builds only (see `toJSON`): JSON would silently leave these out.
const noFunctions = (key: string, v: unknown) => {
  const t = typeof v;
  if (t == 'function' || t == 'symbol') throw new TypeError(`"${key}" is a ${t}, not JSON`);
  return v;
};

/**
 * Serialise `value` to JSON; throws for what JSON cannot carry. Cycles and BigInt throw natively
 * (engines name the path, e.g. V8's "Converting circular structure to JSON --> ... property 'self'
 * closes the circle"). Functions and symbols are dropped by JSON as it always does; in development
 * they throw, to name the mistake. The check is dev-only because a replacer function makes
 * `JSON.stringify` several times slower: it was a quarter of `track()`'s cost (bench profile).
 */
export function toJSON(value: unknown): string {
  let replacer: typeof noFunctions | undefined;
  // Without a bundler `process` may not exist: production, then.
  try {
    if (process.env.NODE_ENV !== 'production') replacer = noFunctions;
  } catch {}
  return JSON.stringify(value, replacer);
}

// Only ASCII: one byte per UTF-16 unit. A native scan, far cheaper than encoding.
const ASCII = /^[\0-\x7f]*$/;

/**
 * UTF-8 byte length of a string (lone surrogates count 3, as their encoding U+FFFD). Most events
 * are ASCII and take the regular expression; the rest are encoded (allocates, but off `track()`'s
 * synchronous path).
 */
export const byteLength = (s: string): number => (ASCII.test(s) ? s.length : new TextEncoder().encode(s).length);
