import type { CallOptions, Properties } from '@sightline/core';
import { useEffect, useRef } from 'react';
import { useAnalytics } from './useAnalytics';

const keyOf = (userId: string, traits: Properties | undefined) => {
  try {
    return userId + '\0' + JSON.stringify(traits ?? {});
  } catch {
    // Traits that are not JSON (a cycle) still identify once per user id.
    return userId;
  }
};

/**
 * Identifies the user once per user id and traits (compared by value): call it where the signed-in
 * user is known. An empty id (signed out) sends nothing; call `reset()` yourself to forget the user.
 *
 * @example
 * useIdentify(session?.user.id, { plan: session?.user.plan });
 */
export function useIdentify(userId: string | null | undefined, traits?: Properties, options?: CallOptions): void {
  const { identify } = useAnalytics();
  const last = useRef<string | undefined>(undefined);
  const key = userId ? keyOf(userId, traits) : undefined;
  useEffect(() => {
    // Signed out: the next sign-in, even as the same user, identifies again.
    if (!userId) last.current = undefined;
    else if (key !== last.current) {
      last.current = key;
      identify(userId, traits, options);
    }
  }, [identify, key]);
}
