// Builds a runnable copy of the collector under bench/.out/, the way tsup
// builds dist/ (esbuild, node20, dependencies left external), so the bench
// runs plain JavaScript without tsx's loader hooks in the profile. With
// `writer` set, that file replaces src/eventWriter.ts in the copy: how the
// bench measures alternative write paths without touching packages/collector.
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

export async function buildCollectorCopy({ root, name = 'collector', writer } = {}) {
  const pkg = join(root, 'packages/collector');
  if (!existsSync(join(pkg, 'src/cli.ts'))) return null;
  // One folder per process: two bench runs at once must not delete each other's build.
  const dir = join(root, 'bench/.out', `${name}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(pkg, 'src'), join(dir, 'src'), { recursive: true, filter: (p) => !p.includes('__tests__') });
  cpSync(join(pkg, 'migrations'), join(dir, 'migrations'), { recursive: true });
  // The PGlite worker (plain JavaScript, loaded next to migrations/), where the tree has one.
  if (existsSync(join(pkg, 'worker'))) cpSync(join(pkg, 'worker'), join(dir, 'worker'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), readFileSync(join(pkg, 'package.json')));
  // Dependencies resolve from the copy exactly as from the package.
  symlinkSync(join(pkg, 'node_modules'), join(dir, 'node_modules'), 'dir');
  if (writer) cpSync(writer, join(dir, 'src/eventWriter.ts'));
  await build({
    entryPoints: [join(dir, 'src/cli.ts')],
    outfile: join(dir, 'dist/cli.js'),
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
  });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'dist/cli.js');
}
