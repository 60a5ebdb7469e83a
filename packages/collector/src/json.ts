/** A plain JSON object (not `null`, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * How deep any member of an event may nest objects and arrays, the member's
 * value being level 1 (protocol 2.3). PostgreSQL's JSON parser runs
 * out of stack at some 15,000 levels, which a 32 KB event can reach; real
 * payloads stay within ten.
 */
export const MAX_JSON_DEPTH = 1000;

/** Whether `value` nests objects and arrays more than `levels` deep (`value` itself is level 1). */
export function deeperThan(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (levels === 0) return true;
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    if (deeperThan(child, levels - 1)) return true;
  }
  return false;
}
