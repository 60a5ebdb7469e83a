import type { FastifyRequest } from 'fastify';

const fields = new WeakMap<FastifyRequest, Record<string, unknown>>();

/** Add fields to the request's one log line (written when the answer is sent). */
export function setLogFields(request: FastifyRequest, extra: Record<string, unknown>): void {
  fields.set(request, { ...fields.get(request), ...extra });
}

/** The fields added with {@link setLogFields}. */
export function getLogFields(request: FastifyRequest): Record<string, unknown> | undefined {
  return fields.get(request);
}

/** The path of a URL without its query string, which may carry a write key. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}
