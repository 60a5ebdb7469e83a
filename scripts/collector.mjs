#!/usr/bin/env node
// `pnpm collector --port 4318 ...`: builds the collector when needed and runs its CLI with the given flags.
import { existsSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';

const cli = 'packages/collector/dist/cli.js';
if (!existsSync(cli)) {
  const r = spawnSync('pnpm', ['--filter', '@sightline/collector', 'build'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const child = spawn(process.execPath, [cli, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
