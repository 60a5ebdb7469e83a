import { describe, expect, it } from 'vitest';
import { createKeyStore, parseAuthorization } from '../auth';
import { hashSecret } from '../credentials';
import type { Queryable } from '../database';
import { HttpError } from '../errors';

const b64 = (text: string) => Buffer.from(text).toString('base64');

function expect401(header: string): void {
  let thrown: unknown;
  try {
    parseAuthorization(header);
  } catch (error) {
    thrown = error;
  }
  expect(thrown, header).toBeInstanceOf(HttpError);
  expect((thrown as HttpError).statusCode, header).toBe(401);
  expect((thrown as HttpError).code, header).toBe('unauthorized');
}

describe('parseAuthorization', () => {
  it('reads Segment Basic and Bearer, and nothing without a header', () => {
    expect(parseAuthorization(undefined)).toBeNull();
    expect(parseAuthorization(`Basic ${b64('wk:')}`)).toEqual({ scheme: 'basic', writeKey: 'wk' });
    expect(parseAuthorization(`basic ${b64('wk')}`)).toEqual({ scheme: 'basic', writeKey: 'wk' });
    expect(parseAuthorization(`Basic ${b64('wk:ignored')}`)).toEqual({ scheme: 'basic', writeKey: 'wk' });
    expect(parseAuthorization('Bearer rt')).toEqual({ scheme: 'bearer', token: 'rt' });
  });

  it('refuses with 401 every present header that is not a usable Basic or Bearer', () => {
    for (const header of ['Token abc', 'Basic', 'Basic ', `Basic ${b64(':x')}`, `Basic ${b64(':')}`, 'Basic not*base64!', 'Bearer', 'Bearer  ', '', 'Digest x=1']) {
      expect401(header);
    }
  });
});

describe('createKeyStore', () => {
  function countingDb(known: Record<string, string>) {
    const byHash = new Map(Object.entries(known).map(([key, project]) => [hashSecret(key), project]));
    const db = {
      queries: 0,
      async query(_sql: string, params?: readonly unknown[]) {
        db.queries++;
        const project = byHash.get(params?.[0] as string);
        return { rows: project === undefined ? [] : [{ project_id: project }] };
      },
      async exec() {},
    };
    return db as Queryable & { queries: number };
  }

  it('caches unknown keys briefly, so a flood of one bad key costs one query per second', async () => {
    const db = countingDb({ good: 'p1' });
    let now = 1_000_000;
    const keys = createKeyStore(db, { now: () => now });
    for (let i = 0; i < 100; i++) expect(await keys.projectForWriteKey('bad')).toBeNull();
    expect(db.queries).toBe(1);
    now += 1_001;
    expect(await keys.projectForWriteKey('bad')).toBeNull();
    expect(db.queries).toBe(2);
    // Known keys are cached too; a read token lookup of the same text is separate.
    expect(await keys.projectForWriteKey('good')).toBe('p1');
    expect(await keys.projectForWriteKey('good')).toBe('p1');
    expect(await keys.projectForReadToken('good')).toBe('p1');
    expect(db.queries).toBe(4);
    keys.forgetMisses();
    expect(await keys.projectForWriteKey('bad')).toBeNull();
    expect(db.queries).toBe(5);
  });

  it('keeps the miss cache bounded', async () => {
    const db = countingDb({});
    const keys = createKeyStore(db, { maxEntries: 10, now: () => 0 });
    for (let i = 0; i < 25; i++) await keys.projectForWriteKey(`random-${i}`);
    expect(db.queries).toBe(25);
    // random-24 is in the current (bounded) map; random-0 was evicted long ago.
    await keys.projectForWriteKey('random-24');
    expect(db.queries).toBe(25);
    await keys.projectForWriteKey('random-0');
    expect(db.queries).toBe(26);
  });
});
