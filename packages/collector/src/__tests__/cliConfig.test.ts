import { describe, expect, it } from 'vitest';
import { resolveCliOptions } from '../cliConfig';

describe('resolveCliOptions', () => {
  it('reads flags first, then environment variables', () => {
    const command = resolveCliOptions(['--port', '5000', '--data-dir', '/tmp/d', '--write-key', 'flag-key'], {
      SIGHTLINE_PORT: '6000',
      SIGHTLINE_HOST: '0.0.0.0',
      SIGHTLINE_WRITE_KEY: 'env-key',
      SIGHTLINE_READ_TOKEN: 'env-token',
      DATABASE_URL: 'postgres://db/x',
      SIGHTLINE_LOG_LEVEL: 'warn',
    });
    expect(command).toEqual({
      kind: 'run',
      options: {
        port: 5000,
        host: '0.0.0.0',
        dataDir: '/tmp/d',
        databaseUrl: 'postgres://db/x',
        writeKey: 'flag-key',
        readToken: 'env-token',
        logLevel: 'warn',
      },
    });
  });

  it('leaves defaults to the collector when nothing is given', () => {
    expect(resolveCliOptions([], {})).toEqual({ kind: 'run', options: {} });
    expect(resolveCliOptions([], { SIGHTLINE_PORT: '' })).toEqual({ kind: 'run', options: {} });
  });

  it('reads the rate limit (0 turns it off) and the retention of the development project', () => {
    expect(resolveCliOptions(['--rate-limit', '50', '--retention-days', '30'], {})).toEqual({
      kind: 'run',
      options: { rateLimit: { requestsPerSecond: 50, burst: 100 }, retentionDays: 30 },
    });
    expect(resolveCliOptions([], { SIGHTLINE_RATE_LIMIT: '0', SIGHTLINE_RETENTION_DAYS: '7' })).toEqual({
      kind: 'run',
      options: { rateLimit: false, retentionDays: 7 },
    });
    expect(() => resolveCliOptions(['--rate-limit', '-1'], {})).toThrow(/--rate-limit/);
    expect(() => resolveCliOptions(['--rate-limit', 'fast'], {})).toThrow(/--rate-limit/);
    for (const bad of ['0', '1.5', '1e3', 'x']) expect(() => resolveCliOptions(['--retention-days', bad], {})).toThrow(/--retention-days/);
    expect(resolveCliOptions(['--help'], {})).toMatchObject({ text: expect.stringMatching(/--retention-days[\s\S]*SIGHTLINE_RATE_LIMIT/) });
  });

  it('prints help and refuses bad input with a clear message', () => {
    expect(resolveCliOptions(['--help'], {})).toMatchObject({ kind: 'help', text: expect.stringContaining('--database-url') });
    expect(() => resolveCliOptions(['--port', 'abc'], {})).toThrow(/--port/);
    expect(() => resolveCliOptions(['--log-level', 'loud'], {})).toThrow(/--log-level/);
    expect(() => resolveCliOptions(['--nope'], {})).toThrow();
  });
});
