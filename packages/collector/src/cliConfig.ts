import { parseArgs } from 'node:util';
import { COLLECTOR_DEFAULTS, type CollectorOptions } from './collector';

/** What the CLI should do. */
export type CliCommand = { kind: 'help'; text: string } | { kind: 'run'; options: CollectorOptions };

/** The CLI's usage text. */
export const CLI_HELP = `Usage: sightline-collector [options]

Options (each also read from the environment variable shown):
  --port <n>             TCP port (SIGHTLINE_PORT, default ${COLLECTOR_DEFAULTS.port})
  --host <addr>          interface (SIGHTLINE_HOST, default ${COLLECTOR_DEFAULTS.host})
  --data-dir <dir>       embedded PGlite folder (SIGHTLINE_DATA_DIR, default ${COLLECTOR_DEFAULTS.dataDir})
  --database-url <url>   PostgreSQL server instead of PGlite (DATABASE_URL)
  --write-key <key>      write key of the development project (SIGHTLINE_WRITE_KEY)
  --read-token <token>   read token of the development project (SIGHTLINE_READ_TOKEN)
  --retention-days <n>   days the development project keeps events (SIGHTLINE_RETENTION_DAYS,
                         default 365 for a new project; updated when given)
  --rate-limit <n>       requests per second per write key, bursts of twice that; 0 turns it off
                         (SIGHTLINE_RATE_LIMIT, default 1000)
  --log-level <level>    fatal|error|warn|info|debug|trace|silent (SIGHTLINE_LOG_LEVEL, default info)
  -h, --help             show this help
`;

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * Resolve flags, then environment variables, then defaults. Pure, so it is
 * tested without starting anything. Throws with a usage hint on bad input.
 */
export function resolveCliOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliCommand {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'database-url': { type: 'string' },
      'write-key': { type: 'string' },
      'read-token': { type: 'string' },
      'retention-days': { type: 'string' },
      'rate-limit': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return { kind: 'help', text: CLI_HELP };

  const pick = (flag: string | undefined, name: string): string | undefined => {
    const value = flag ?? env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const options: CollectorOptions = {};
  const port = pick(values.port, 'SIGHTLINE_PORT');
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be an integer 0-65535, got "${port}".`);
    options.port = n;
  }
  const host = pick(values.host, 'SIGHTLINE_HOST');
  if (host !== undefined) options.host = host;
  const dataDir = pick(values['data-dir'], 'SIGHTLINE_DATA_DIR');
  if (dataDir !== undefined) options.dataDir = dataDir;
  const databaseUrl = pick(values['database-url'], 'DATABASE_URL');
  if (databaseUrl !== undefined) options.databaseUrl = databaseUrl;
  const writeKey = pick(values['write-key'], 'SIGHTLINE_WRITE_KEY');
  if (writeKey !== undefined) options.writeKey = writeKey;
  const readToken = pick(values['read-token'], 'SIGHTLINE_READ_TOKEN');
  if (readToken !== undefined) options.readToken = readToken;
  const retentionDays = pick(values['retention-days'], 'SIGHTLINE_RETENTION_DAYS');
  if (retentionDays !== undefined) {
    if (!/^\d+$/.test(retentionDays) || Number(retentionDays) < 1) {
      throw new Error(`--retention-days must be a positive integer, got "${retentionDays}".`);
    }
    options.retentionDays = Number(retentionDays);
  }
  const rateLimit = pick(values['rate-limit'], 'SIGHTLINE_RATE_LIMIT');
  if (rateLimit !== undefined) {
    const n = Number(rateLimit);
    if (!/^\d+(\.\d+)?$/.test(rateLimit) || !Number.isFinite(n)) {
      throw new Error(`--rate-limit must be a number of requests per second (0: off), got "${rateLimit}".`);
    }
    options.rateLimit = n === 0 ? false : { requestsPerSecond: n, burst: Math.max(1, Math.ceil(n * 2)) };
  }
  const logLevel = pick(values['log-level'], 'SIGHTLINE_LOG_LEVEL');
  if (logLevel !== undefined) {
    if (!LOG_LEVELS.has(logLevel)) throw new Error(`--log-level must be one of ${[...LOG_LEVELS].join(', ')}.`);
    options.logLevel = logLevel as NonNullable<CollectorOptions['logLevel']>;
  }
  return { kind: 'run', options };
}
