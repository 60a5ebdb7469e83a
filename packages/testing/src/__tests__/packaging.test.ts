// The published packages as users get them: `pnpm pack` tarballs checked by publint and
// @arethetypeswrong/cli, then installed with npm into a scratch app and imported both ways.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../../..');
const published = ['core', 'collector', 'realtime', 'react'] as const;
// @sightline/react's peers as a host app has them (npm would install the latest on its own).
const reactPeers = ['react@19.3.1', 'react-dom@19.3.1'];
const tarballs = new Map<string, string>();
let work: string;

function sh(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sightline-pack-'));
  for (const name of published) {
    // The packages are built by `pnpm test` before Vitest starts.
    sh('pnpm', ['pack', '--pack-destination', work], join(root, 'packages', name));
    const file = readdirSync(work).find((f) => f.startsWith(`sightline-${name}-`) && f.endsWith('.tgz'));
    if (!file) throw new Error(`pnpm pack produced no tarball for ${name}`);
    tarballs.set(name, join(work, file));
  }
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.each(published)('@sightline/%s tarball', (name) => {
  it('passes publint', () => {
    const out = sh('pnpm', ['exec', 'publint', '--strict', tarballs.get(name)!], root);
    expect(out).not.toMatch(/error|warning/i);
  });

  it('has types that resolve in every module mode (attw)', () => {
    // Throws (non-zero exit) when any resolution problem is found.
    sh('pnpm', ['exec', 'attw', tarballs.get(name)!, '--format', 'ascii'], root);
  });
});

describe('tarballs installed into a fresh app', () => {
  let app: string;

  beforeAll(() => {
    app = join(work, 'app');
    sh('mkdir', ['-p', app], work);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true }));
    sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...published.map((n) => tarballs.get(n)!), ...reactPeers], app);
  }, 240_000);

  it('imports @sightline/core as ESM and CommonJS and tracks under Node', () => {
    writeFileSync(
      join(app, 'esm.mjs'),
      `import { createAnalytics } from '@sightline/core';
const a = createAnalytics({ writeKey: 'k', host: 'http://127.0.0.1:9' });
a.track('Packed', { ok: true });
console.log(typeof createAnalytics);`,
    );
    writeFileSync(
      join(app, 'cjs.cjs'),
      `const { createAnalytics } = require('@sightline/core');
console.log(typeof createAnalytics);`,
    );
    expect(sh('node', ['esm.mjs'], app).trim().split('\n').at(-1)).toBe('function');
    expect(sh('node', ['cjs.cjs'], app).trim().split('\n').at(-1)).toBe('function');
  });

  it('imports @sightline/realtime as ESM and CommonJS; without a WebSocket class on Node 20 it says what to pass', () => {
    writeFileSync(
      join(app, 'rt.mjs'),
      `import { createRealtimeClient } from '@sightline/realtime';
try { createRealtimeClient({ url: 'http://127.0.0.1:9', getToken: () => 't' }); console.log('no error'); }
catch (e) { console.log(typeof createRealtimeClient, e.message); }`,
    );
    writeFileSync(join(app, 'rt.cjs'), `console.log(typeof require('@sightline/realtime').createRealtimeClient);`);
    expect(sh('node', ['rt.mjs'], app).trim().split('\n').at(-1)).toMatch(/^function \[sightline\].*\bws\b/);
    expect(sh('node', ['rt.cjs'], app).trim().split('\n').at(-1)).toBe('function');
  });

  it('links the sightline-collector bin (what `npx @sightline/collector` runs)', () => {
    expect(sh(join(app, 'node_modules/.bin/sightline-collector'), ['--help'], app)).toMatch(/^Usage: sightline-collector/);
  });

  it('starts the installed collector and stores a batch', () => {
    writeFileSync(
      join(app, 'collector.mjs'),
      `import { createCollector } from '@sightline/collector';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const c = await createCollector({ port: 0, dataDir: mkdtempSync(join(tmpdir(), 'pack-db-')), writeKey: 'wk', readToken: 'rt' });
const url = await c.listen();
const res = await fetch(url + '/v1/batch', {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from('wk:').toString('base64') },
  body: JSON.stringify({ batch: [{ type: 'track', event: 'Packed', messageId: 'm-1', anonymousId: 'a' }] }),
});
console.log(res.status, JSON.stringify(await res.json()));
await c.close();`,
    );
    const out = sh('node', ['collector.mjs'], app).trim().split('\n').at(-1);
    expect(out).toMatch(/^200 .*"accepted":1/);
    // The CommonJS build finds the PGlite worker (worker/, shipped next to dist/) as well.
    writeFileSync(
      join(app, 'collector.cjs'),
      `const { createCollector } = require('@sightline/collector');
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
(async () => {
  const c = await createCollector({ port: 0, dataDir: mkdtempSync(join(tmpdir(), 'pack-db-')), writeKey: 'wk', readToken: 'rt' });
  const url = await c.listen();
  const res = await fetch(url + '/v1/events/recent', { headers: { authorization: 'Bearer rt' } });
  console.log(res.status, (await res.json()).events.length);
  await c.close();
})();`,
    );
    expect(sh('node', ['collector.cjs'], app).trim().split('\n').at(-1)).toBe('200 0');
  }, 90_000);

  it("imports @sightline/react as ESM and CommonJS, with its 'use client' directive and one copy of core; a server render tracks nothing", () => {
    const pkg = join(app, 'node_modules/@sightline/react');
    for (const file of ['dist/index.js', 'dist/index.cjs']) expect(readFileSync(join(pkg, file), 'utf8')).toMatch(/^'use client';\n/);
    // core and realtime are peers: the app's own copies, never a second one under @sightline/react.
    expect(existsSync(join(pkg, 'node_modules/@sightline/core'))).toBe(false);
    expect(existsSync(join(pkg, 'node_modules/@sightline/realtime'))).toBe(false);
    writeFileSync(
      join(app, 'react.mjs'),
      `import { createElement as h } from 'react';
import { renderToString } from 'react-dom/server';
import { AnalyticsProvider, PageViews, RealtimeProvider, useMetric } from '@sightline/react';
let fetches = 0;
const fetch = async () => (fetches++, { status: 200, headers: { get: () => null } });
function Live() { return h('p', null, useMetric('page_views').isLoading ? 'loading' : 'live'); }
const html = renderToString(
  h(AnalyticsProvider, { config: { writeKey: 'k', host: 'http://127.0.0.1:9', env: { fetch } } },
    h(PageViews, { path: '/' }),
    h(RealtimeProvider, { config: { url: 'http://127.0.0.1:9', getToken: () => 't' } }, h(Live))));
await new Promise((resolve) => setTimeout(resolve, 200));
console.log(html, fetches);`,
    );
    writeFileSync(join(app, 'react.cjs'), `const r = require('@sightline/react'); console.log(typeof r.AnalyticsProvider, typeof r.useMetric);`);
    expect(sh('node', ['react.mjs'], app).trim().split('\n').at(-1)).toBe('<p>loading</p> 0');
    expect(sh('node', ['react.cjs'], app).trim().split('\n').at(-1)).toBe('function function');
  });
});
