// A throwaway PostgreSQL server must not outlive a process that forgets to stop it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const execFileAsync = promisify(execFile);
const helper = resolve(import.meta.dirname, '../postgres.ts');
const tsx = join(resolve(import.meta.dirname, '../../../..'), 'node_modules/tsx/dist/esm/index.mjs');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

it('stops the server and deletes its folder when the process ends without stop()', async () => {
  // A child starts a server, prints its folder and postmaster pid, then dies of an uncaught error.
  const script = `
    import { readdirSync, readFileSync } from 'node:fs';
    import { tmpdir } from 'node:os';
    import { join } from 'node:path';
    import { startPostgres } from ${JSON.stringify(helper)};
    const folders = () => readdirSync(tmpdir()).filter((name) => name.startsWith('sightline-pg-'));
    const before = new Set(folders());
    await startPostgres();
    const dir = join(tmpdir(), folders().find((name) => !before.has(name)));
    const pid = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\\n')[0]);
    console.log(JSON.stringify({ dir, pid }));
    throw new Error('forgot to stop it');
  `;
  // A temp folder of its own, so that no other run's server folder can be taken for this one.
  const tmp = await mkdtemp(join(tmpdir(), 'sightline-pg-test-'));
  await chmod(tmp, 0o755);
  const failed = await execFileAsync(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], { env: { ...process.env, TMPDIR: tmp } }).then(
    () => null,
    (error: { stdout: string; stderr: string }) => error,
  );
  expect(failed?.stderr).toContain('forgot to stop it');
  const { dir, pid } = JSON.parse(failed!.stdout.trim().split('\n').at(-1)!) as { dir: string; pid: number };
  expect(pid).toBeGreaterThan(0);
  expect(existsSync(dir)).toBe(false);
  // An immediate shutdown takes a moment.
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  expect(alive(pid)).toBe(false);
  await rm(tmp, { recursive: true, force: true });
}, 60_000);
