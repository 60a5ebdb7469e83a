#!/usr/bin/env node
// `pnpm check:packages`: each published package as users get it (`pnpm pack`), checked by publint
// (--strict) and @arethetypeswrong/cli. Run after `pnpm build`. The packaging test (packages/testing)
// runs the same checks and installs the tarballs into a scratch app.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const published = ['core', 'realtime', 'collector', 'react'];
const work = mkdtempSync(join(tmpdir(), 'sightline-check-'));
const failed = [];

function run(cmd, args, cwd = process.cwd()) {
  try {
    return { ok: true, out: execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (error) {
    return { ok: false, out: `${error.stdout ?? ''}${error.stderr ?? ''}` };
  }
}

try {
  for (const name of published) {
    const dir = join('packages', name);
    if (!existsSync(join(dir, 'dist'))) {
      console.log(`[sightline] @sightline/${name}: no dist/, run pnpm build first`);
      failed.push(name);
      continue;
    }
    run('pnpm', ['pack', '--pack-destination', work], dir);
    const tarball = readdirSync(work).find((f) => f.startsWith(`sightline-${name}-`) && f.endsWith('.tgz'));
    if (!tarball) {
      console.log(`[sightline] @sightline/${name}: pnpm pack produced no tarball`);
      failed.push(name);
      continue;
    }
    const publint = run('pnpm', ['exec', 'publint', '--strict', join(work, tarball)]);
    const attw = run('pnpm', ['exec', 'attw', join(work, tarball), '--format', 'ascii']);
    const ok = publint.ok && !/error|warning/i.test(publint.out) && attw.ok;
    console.log(`[sightline] @sightline/${name}: publint ${publint.ok && !/error|warning/i.test(publint.out) ? 'ok' : 'FAILED'}, attw ${attw.ok ? 'ok' : 'FAILED'}`);
    if (!ok) {
      console.log(publint.out.trim());
      console.log(attw.out.trim());
      failed.push(name);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(failed.length ? `[sightline] failed: ${failed.join(', ')}` : '[sightline] every package passes publint and attw');
process.exit(failed.length ? 1 : 0);
