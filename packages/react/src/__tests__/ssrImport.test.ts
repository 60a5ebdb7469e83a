// @vitest-environment node
import { expect, it } from 'vitest';

it('imports on a server without touching window, document, localStorage or indexedDB', async () => {
  const touched: string[] = [];
  const names = ['window', 'document', 'localStorage', 'indexedDB', 'navigator', 'location', 'requestAnimationFrame'] as const;
  const saved = names.map((name) => [name, Object.getOwnPropertyDescriptor(globalThis, name)] as const);
  for (const name of names)
    Object.defineProperty(globalThis, name, {
      configurable: true,
      get() {
        touched.push(name);
        return undefined;
      },
    });
  try {
    const react = await import('../index');
    expect(typeof react.AnalyticsProvider).toBe('function');
  } finally {
    for (const [name, descriptor] of saved) {
      delete (globalThis as Record<string, unknown>)[name];
      if (descriptor) Object.defineProperty(globalThis, name, descriptor);
    }
  }
  expect(touched).toEqual([]);
});
