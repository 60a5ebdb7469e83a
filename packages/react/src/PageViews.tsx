import { usePageView, type PageViewOptions } from './usePageView';

export interface PageViewsProps extends PageViewOptions {
  /** The current path from your router: `useLocation().pathname`, Next's `usePathname()`. */
  path: string;
  /**
   * The current query, with or without `?`: `useLocation().search`, Next's `useSearchParams().toString()`.
   * Leave it out to count path changes only.
   * @default ''
   */
  search?: string | undefined;
}

/**
 * One `page` event per navigation, for any router: render it once, inside the router, with the
 * location it gives you. Renders nothing.
 *
 * @example
 * const { pathname, search } = useLocation();
 * return <PageViews path={pathname} search={search} />;
 */
export function PageViews({ path, search = '', ...options }: PageViewsProps): null {
  usePageView(search && search[0] != '?' ? `${path}?${search}` : path + search, options);
  return null;
}
