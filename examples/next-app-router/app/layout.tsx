import { AnalyticsProvider } from '@sightline/react';
import type { ReactNode } from 'react';
import { Suspense } from 'react';
import Link from 'next/link';
import { NextPageViews } from './NextPageViews';

// A Server Component renders the provider straight from '@sightline/react': the package's
// 'use client' directive makes that a client boundary. The config crosses it as plain data.
const config = {
  writeKey: process.env.SIGHTLINE_WRITE_KEY ?? 'dev-write-key',
  host: process.env.SIGHTLINE_HOST ?? 'http://127.0.0.1:4318',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <AnalyticsProvider config={config}>
          {/* useSearchParams() renders on the client only: a small Suspense boundary keeps the rest static. */}
          <Suspense fallback={null}>
            <NextPageViews />
          </Suspense>
          <nav>
            <Link href="/">Home</Link> <Link href="/pricing">Pricing</Link> <Link href="/docs?tab=api">Docs: API</Link>{' '}
            <Link href="/docs?tab=guides">Docs: guides</Link>
          </nav>
          {children}
        </AnalyticsProvider>
      </body>
    </html>
  );
}
