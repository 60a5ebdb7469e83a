import { chromium, type Browser, type LaunchOptions } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

/**
 * Debian's Chromium. Playwright's own browser download is never used: CI and
 * the dev containers have no network for it, and one browser keeps runs comparable.
 * @default '/usr/bin/chromium' (override with `SIGHTLINE_CHROMIUM`)
 */
export const chromiumExecutablePath = process.env.SIGHTLINE_CHROMIUM ?? '/usr/bin/chromium';

/** Flags that keep Chromium quiet and deterministic in containers. */
export const chromiumArgs: readonly string[] = [
  // Containers run as root without user namespaces.
  '--no-sandbox',
  '--disable-gpu',
  // QUIC would bypass the TCP proxies the fault tests put in front of the collector.
  '--disable-quic',
  '--no-first-run',
  // Background fetches (component updates, sync) would show up in request logs.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LaunchChromiumOptions {
  /** @default true */
  headless?: boolean;
  /** Extra command-line flags, appended to {@link chromiumArgs}. */
  args?: string[];
  /** Anything else Playwright's `launch` takes. */
  launchOptions?: LaunchOptions;
}

/** Launches Debian's Chromium through Playwright. Close the browser in `afterAll`. */
export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<Browser> {
  return chromium.launch({
    ...options.launchOptions,
    executablePath: chromiumExecutablePath,
    headless: options.headless ?? true,
    args: [...chromiumArgs, ...(options.args ?? [])],
  });
}

// Test files in other packages take Playwright's types from here: only packages/testing depends on playwright-core.
export type { Browser, BrowserContext, Page, Request } from 'playwright-core';

/**
 * Launch one Chromium for the calling test file (in `beforeAll`) and close it afterwards
 * (in `afterAll`). Returns a handle whose `newContext()` opens an isolated profile.
 */
export function useChromium(options: LaunchChromiumOptions = {}): Pick<Browser, 'newContext'> {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchChromium(options);
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    newContext: (contextOptions) => {
      if (!browser) throw new Error('useChromium(): Chromium is not running; call it at the top level of a test file');
      return browser.newContext(contextOptions);
    },
  };
}
