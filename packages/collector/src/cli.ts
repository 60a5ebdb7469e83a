#!/usr/bin/env node
import { resolveCliOptions } from './cliConfig';
import { createCollector } from './collector';

async function main(): Promise<void> {
  let command;
  try {
    command = resolveCliOptions(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`sightline-collector: ${(error as Error).message}\nRun with --help for usage.\n`);
    process.exitCode = 2;
    return;
  }
  if (command.kind === 'help') {
    process.stdout.write(command.text);
    return;
  }
  const { options } = command;
  const collector = createCollector(options);

  let stopping = false;
  const stop = (signal: string) => {
    // A second Ctrl-C means the user does not want to wait for the drain.
    if (stopping) process.exit(130);
    stopping = true;
    collector.app.log.info({ signal }, 'shutting down: finishing requests in flight');
    collector.close().then(
      () => process.exit(0),
      (error: unknown) => {
        collector.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  try {
    const url = await collector.listen();
    const storage = options.databaseUrl ? 'PostgreSQL' : `PGlite in ${options.dataDir ?? './.sightline-data'}`;
    process.stdout.write(`Sightline collector listening on ${url} (${storage})\n`);
  } catch (error) {
    process.stderr.write(`sightline-collector: could not start: ${(error as Error).message}\n`);
    await collector.close().catch(() => {});
    process.exitCode = 1;
  }
}

void main();
