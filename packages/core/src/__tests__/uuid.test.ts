import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../uuid';

describe('uuidv7', () => {
  it('is a v7, variant 10 UUID carrying the timestamp', () => {
    const t = Date.parse('2026-11-23T10:00:00.000Z');
    const id = uuidv7(t);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(t);
  });
  it('sorts in call order, also within one millisecond', () => {
    const t = Date.now() + 10_000;
    const ids = Array.from({ length: 5000 }, () => uuidv7(t));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
