import { act, render } from '@testing-library/react';
import { StrictMode, useState } from 'react';
import { Link, MemoryRouter, Route, Routes, useLocation, useNavigate } from 'react-router';
import { describe, expect, it } from 'vitest';
import { AnalyticsProvider, PageViews, usePageView } from '../index';
import { analyticsConfig, recordingClient, sleep, until, useCollector } from './helpers';

const server = useCollector();

/** The React Router snippet of the README: the router's location into `<PageViews>`. */
function RouterPageViews({ run }: { run: string }) {
  const { pathname, search } = useLocation();
  return <PageViews path={pathname} search={search} properties={{ run }} />;
}

function Nav() {
  const navigate = useNavigate();
  const [renders, setRenders] = useState(0);
  return (
    <nav>
      <Link to="/pricing">pricing</Link>
      <Link to="/docs?tab=api">docs</Link>
      <button onClick={() => setRenders(renders + 1)}>re-render {renders}</button>
      <button onClick={() => navigate('/docs?tab=api')}>same page</button>
      <button onClick={() => navigate('/')}>home</button>
    </nav>
  );
}

describe('<PageViews> with React Router', () => {
  it('tracks one page view per navigation under StrictMode: none for re-renders or the same location', async () => {
    const run = `router-${Date.now()}`;
    const view = render(
      <StrictMode>
        <AnalyticsProvider config={analyticsConfig(server.url)}>
          <MemoryRouter initialEntries={['/']}>
            <RouterPageViews run={run} />
            <Nav />
            <Routes>
              <Route path="*" element={<main>page</main>} />
            </Routes>
          </MemoryRouter>
        </AnalyticsProvider>
      </StrictMode>,
    );
    const click = (text: string | RegExp) => act(() => view.getByText(text).click());
    click('pricing');
    click('docs');
    click(/re-render/);
    click(/re-render/);
    click('same page');
    click('home');

    const pages = async () =>
      (await server.events()).filter((e) => e.type === 'page' && e.properties?.run === run).map((e) => `${e.properties!.path}${e.properties!.search}`);
    await until(async () => (await pages()).length >= 4, 'four page views');
    view.unmount();
    await sleep(200);
    expect(await pages()).toEqual(['/', '/pricing', '/docs?tab=api', '/']);
  });
});

describe('usePageView', () => {
  it('without a url: one page view per mount, none more under StrictMode', () => {
    const { client, of } = recordingClient();
    function Pricing() {
      usePageView(undefined, { name: 'Pricing', category: 'analytics' });
      return <p>pricing</p>;
    }
    function App() {
      const [shown, setShown] = useState(true);
      return (
        <>
          <button onClick={() => setShown(!shown)}>toggle</button>
          {shown && <Pricing />}
        </>
      );
    }
    const view = render(
      <StrictMode>
        <AnalyticsProvider client={client}>
          <App />
        </AnalyticsProvider>
      </StrictMode>,
    );
    // Made in the child's effect before the provider attached its client: stamped with that time.
    expect(of('page')).toEqual([['Pricing', {}, { timestamp: expect.any(Number) }]]);
    expect((of('page')[0]![2] as { category?: string }).category).toBe('analytics');
    act(() => view.getByText('toggle').click());
    act(() => view.getByText('toggle').click());
    expect(of('page')).toHaveLength(2);
  });

  it("accepts Next's query without '?' (useSearchParams().toString()) and a path alone", () => {
    const { client, of } = recordingClient();
    const view = render(
      <AnalyticsProvider client={client}>
        <PageViews path="/blog" search="page=2" />
      </AnalyticsProvider>,
    );
    view.rerender(
      <AnalyticsProvider client={client}>
        <PageViews path="/about" />
      </AnalyticsProvider>,
    );
    expect(of('page')).toEqual([
      [undefined, { path: '/blog', search: '?page=2' }, { timestamp: expect.any(Number) }],
      [undefined, { path: '/about', search: '' }, undefined],
    ]);
  });
});
