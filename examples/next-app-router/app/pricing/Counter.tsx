'use client';

import { useState } from 'react';

/** Re-renders the page without navigating: no page view. */
export function Counter() {
  const [n, setN] = useState(0);
  return <button onClick={() => setN(n + 1)}>Clicked {n}</button>;
}
