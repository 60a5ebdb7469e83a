/** A `[sightline]`-prefixed console logger that stays silent unless `debug` is on. */
export type Logger = (...args: unknown[]) => void;

export function createLogger(debug: boolean | undefined): Logger {
  return (...args) => debug && console.log('[sightline]', ...args);
}
