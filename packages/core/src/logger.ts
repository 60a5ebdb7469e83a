/** A `[sightline]`-prefixed console logger that stays silent unless `debug` is on. */
export type Logger = (...args: unknown[]) => void;

export function createLogger(debug: boolean): Logger {
  return debug ? (...args) => console.log('[sightline]', ...args) : () => {};
}
