import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';

/** A file served from memory: its body, and a content type when the path's extension does not say it. */
export type StaticFile = string | Uint8Array | { body: string | Uint8Array; type?: string };

/** Path (`/index.html`) to contents; a function is called on every request, so a test can change a page between loads. */
export type StaticFiles = Record<string, StaticFile | (() => StaticFile)>;

export interface StaticServer {
  /** `http://127.0.0.1:<port>` without a trailing slash. */
  url: string;
  port: number;
  /** Stops listening and drops open keep-alive connections. */
  close(): Promise<void>;
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

function typeOf(path: string): string {
  return contentTypes[extname(path)] ?? 'application/octet-stream';
}

async function fromDirectory(root: string, path: string): Promise<{ body: Uint8Array; type: string } | undefined> {
  const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
  // Refuse `..` escapes: the server only ever hands out what is under root.
  if (file !== root && !file.startsWith(root + sep)) return undefined;
  try {
    if (!(await stat(file)).isFile()) return undefined;
    return { body: await readFile(file), type: typeOf(file) };
  } catch {
    return undefined;
  }
}

function fromMap(files: StaticFiles, path: string): { body: string | Uint8Array; type: string } | undefined {
  const entry = files[path] ?? (path.endsWith('/') ? files[`${path}index.html`] : undefined);
  if (entry === undefined) return undefined;
  const file = typeof entry === 'function' ? entry() : entry;
  if (typeof file === 'string' || file instanceof Uint8Array)
    return { body: file, type: typeOf(path.endsWith('/') ? 'index.html' : path) };
  return { body: file.body, type: file.type ?? typeOf(path) };
}

/**
 * Serves a directory, or a map of in-memory files, on 127.0.0.1 at a free port.
 * Nothing is cached by the browser (`Cache-Control: no-store`), so a reload
 * always gets the current page. Stop it with `close()` in `afterAll`.
 */
export async function serveStatic(source: string | StaticFiles): Promise<StaticServer> {
  const root = typeof source === 'string' ? resolve(source) : undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const file = root !== undefined ? await fromDirectory(root, path) : fromMap(source as StaticFiles, path);
    if (file === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
