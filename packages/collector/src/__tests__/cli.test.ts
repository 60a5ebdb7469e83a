import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { post, recent, trackEvent, useBackend } from './helpers';

const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));

describe('sightline-collector CLI', () => {
  // PostgreSQL starts in a blink; the PGlite path is the same code after open.
  const backend = useBackend('postgres');

  it('starts from flags and env, prints its URL, and exits cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0', '--write-key', 'cli-wk', '--log-level', 'warn'], {
      env: { ...process.env, DATABASE_URL: backend.storage().databaseUrl, SIGHTLINE_READ_TOKEN: 'cli-rt' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`CLI exited with ${code}: ${output}`)));
    });
    try {
      expect((await post(`${url}/v1/batch`, { batch: [trackEvent()] }, { writeKey: 'cli-wk' })).body).toEqual({ accepted: 1, duplicates: 0 });
      expect((await recent(url, 'cli-rt')).body.events).toHaveLength(1);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('exits with status 2 and a hint on a bad flag', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', 'x'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(stderr).toMatch(/--port/);
  });
});
