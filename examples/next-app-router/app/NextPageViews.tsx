'use client';

import { PageViews } from '@sightline/react';
import { usePathname, useSearchParams } from 'next/navigation';

/** One page view per navigation of the App Router (client navigations included, hydration once). */
export function NextPageViews() {
  const pathname = usePathname();
  const searchParams = useSearchParams();
  return <PageViews path={pathname} search={searchParams.toString()} />;
}
