import { readFile, writeFile } from 'node:fs/promises';
import { defineConfig, type Options } from 'tsup';
import shared from '../../tsup.browser';

const DIRECTIVE = "'use client';\n";

export default defineConfig({
  ...(shared as Options),
  // Every export is a hook or a component that needs one, so a Server Component (Next's App Router)
  // must meet the whole entry as client code. Bundlers drop module directives (esbuild's banner too:
  // tsup's Rollup tree-shaking pass strips it), so it is prepended to the output once built, and the
  // source maps shifted by that line. The packaging test checks it in the tarball.
  async onSuccess() {
    for (const file of ['dist/index.js', 'dist/index.cjs']) {
      const code = await readFile(file, 'utf8');
      if (code.startsWith(DIRECTIVE)) continue;
      await writeFile(file, DIRECTIVE + code);
      const map = JSON.parse(await readFile(`${file}.map`, 'utf8'));
      map.mappings = ';' + map.mappings;
      await writeFile(`${file}.map`, JSON.stringify(map));
    }
  },
});
