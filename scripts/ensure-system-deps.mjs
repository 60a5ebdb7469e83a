#!/usr/bin/env node
// Installs what npm cannot: Debian's Chromium (browser tests) and PostgreSQL 15 server (collector tests).
// Nothing downloads a browser build: Playwright drives /usr/bin/chromium.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

const needs = [];
if (!existsSync('/usr/bin/chromium')) needs.push('chromium');
if (!existsSync('/usr/lib/postgresql/15/bin/postgres')) needs.push('postgresql');

if (needs.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const sudo = isRoot ? '' : 'sudo ';
console.log(`[sightline] installing system packages: ${needs.join(', ')}`);
try {
  execSync(`${sudo}apt-get update -qq`, { stdio: 'inherit' });
  execSync(`${sudo}env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${needs.join(' ')}`, {
    stdio: 'inherit',
  });
} catch {
  console.error(
    `[sightline] could not install ${needs.join(', ')}. Install them with your package manager ` +
      `(Debian/Ubuntu: apt-get install -y ${needs.join(' ')}) and run the command again.`,
  );
  process.exit(1);
}
