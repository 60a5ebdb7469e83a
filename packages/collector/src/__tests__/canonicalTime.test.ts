import { describe, expect, it } from 'vitest';
import { canonicalMillis } from '../canonicalTime';

const FIRST = Date.parse('0001-01-01T00:00:00.000Z');
const LAST = Date.parse('9999-12-31T23:59:59.999Z');

describe('canonicalMillis', () => {
  it('agrees with Date.parse on every instant of years 0001 to 9999', () => {
    // Deterministic spread: a fixed linear congruential sequence over the whole range.
    let seed = 12345;
    // 32-bit integer arithmetic (Math.imul), so that every step stays exact.
    const next = () => (seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
    const mismatches: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const iso = new Date(Math.floor(FIRST + next() * (LAST - FIRST))).toISOString();
      if (canonicalMillis(iso) !== Date.parse(iso)) mismatches.push(iso);
    }
    expect(mismatches).toEqual([]);
  });

  it('reads the edges: leap days, century rules, the first and last instants', () => {
    for (const iso of [
      '0001-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z', '1970-01-01T00:00:00.000Z', '2000-02-29T12:00:00.000Z',
      '2024-02-29T23:59:59.999Z', '1600-02-29T00:00:00.000Z', '2026-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z',
    ]) {
      expect(canonicalMillis(iso), iso).toBe(Date.parse(iso));
    }
  });

  it('gives NaN for days a month lacks, fields out of range and any other form', () => {
    for (const iso of [
      '2026-02-29T00:00:00.000Z', '1900-02-29T00:00:00.000Z', '2100-02-29T00:00:00.000Z', '2026-04-31T00:00:00.000Z',
      '2026-13-01T00:00:00.000Z', '2026-00-01T00:00:00.000Z', '2026-01-00T00:00:00.000Z', '2026-01-01T24:00:00.000Z',
      '2026-01-01T00:60:00.000Z', '2026-01-01T00:00:60.000Z', '0000-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000+00:00', '2026-01-01 00:00:00.000Z', '2026-01-01T00:00:00.000z',
      '2026-01-01T00:00:00.00aZ', '+02026-01-01T00:00:00.000', '2026-1-01T00:00:00.000Z', '', 'not a date at all, no',
    ]) {
      expect(canonicalMillis(iso), iso).toBeNaN();
    }
  });
});
