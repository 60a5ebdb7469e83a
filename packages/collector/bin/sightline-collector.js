#!/usr/bin/env node
// The package's bin: a committed file, so that pnpm can link it when the workspace is installed,
// before `dist/` is built (pointing the bin at dist/cli.js made every fresh install warn).
import '../dist/cli.js';
