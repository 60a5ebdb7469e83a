#!/usr/bin/env node
// `pnpm test`: installs system dependencies if missing, builds, type-checks, checks size budgets,
// runs every Vitest project, and ends with one line `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const extra = process.argv.slice(2);
const results = 'test-results.json';
let failedSteps = [];

function run(label, cmd, args) {
  console.log(`\n[sightline] ${label}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: process.env });
  if (r.status !== 0) failedSteps.push(label);
  return r.status === 0;
}

if (!run('system dependencies', 'node', ['scripts/ensure-system-deps.mjs'])) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}
if (!run('build', 'pnpm', ['build'])) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}
run('typecheck', 'pnpm', ['typecheck']);
run('size budgets', 'pnpm', ['exec', 'size-limit']);

rmSync(results, { force: true });
run('tests', 'pnpm', [
  'exec',
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${results}`,
  ...extra,
]);

let passed = 0;
let failed = 0;
try {
  const report = JSON.parse(readFileSync(results, 'utf8'));
  passed = report.numPassedTests ?? 0;
  // A test file that fails to load has no failed test of its own: count it as one.
  failed = Math.max(report.numFailedTests ?? 0, report.numFailedTestSuites ?? 0);
} catch {
  failed += 1;
  failedSteps.push('reading test results');
}
// A failed build step (typecheck, size budget) counts as one failed check.
const stepFailures = failedSteps.filter((s) => s !== 'tests').length;
if (failedSteps.length) console.log(`\n[sightline] failed steps: ${failedSteps.join(', ')}`);
console.log(`${passed} passed, ${failed + stepFailures} failed`);
process.exit(failedSteps.length || failed ? 1 : 0);
