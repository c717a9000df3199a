import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { splitList } from '../common/configFormats.js';
import { errorMessage } from '../common/errors.js';
import type { ServeConfig } from './config.js';
import { HttpError } from './httpError.js';

/**
 * The built pages (`npm run web`: serve/pages/build.ts writes them under dist/web), held in memory and
 * served with headers that allow nothing but this origin: no CDN, no inline script, no framing.
 * 'unsafe-eval' is there for one reason: the manifest schema's validator (TypeBox) is compiled with
 * new Function, in the page as on the server.
 */
export type Pages = ReadonlyMap<string, { bytes: Buffer; type: string }>;

/** The page whose settings (`config.json`) the server writes from its own. */
export interface PhoneSettings {
  trustedKeys: string[];
  /** Where the signed manifest and files are: `<base>signed-manifest.json`, `<base>files/<name>`. */
  packageBase: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export const PAGE_CSP =
  "default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self'; connect-src 'self'; img-src 'self' data:; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** dist/web of this installation (this file is dist/serve/pages.js when running). */
export function defaultWebDir(): string {
  return fileURLToPath(new URL('../web/', import.meta.url));
}

/** Reads the built pages (phone/ and fleet/, one level each); undefined when they were never built. */
export async function loadPages(dir: string): Promise<Pages | undefined> {
  const pages = new Map<string, { bytes: Buffer; type: string }>();
  for (const page of ['phone', 'fleet']) {
    let names: string[];
    try {
      names = await readdir(join(dir, page));
    } catch {
      continue;
    }
    for (const name of names) {
      const type = TYPES[extname(name)];
      if (!type || name === 'config.json') continue;
      pages.set(`${page}/${name}`, { bytes: await readFile(join(dir, page, name)), type });
    }
  }
  return pages.size > 0 ? pages : undefined;
}

export function pageRoutes(
  app: FastifyInstance,
  ctx: { pages: Pages | undefined; config: ServeConfig },
): void {
  const settings: PhoneSettings = {
    trustedKeys: splitList(ctx.config.trustedKeys),
    packageBase: '/v1/package/',
  };
  const send = (reply: FastifyReply, key: string) => {
    const file = ctx.pages?.get(key);
    if (!file) {
      throw new HttpError(
        404,
        'NOT_FOUND',
        ctx.pages ? `no page file ${key.slice(0, 200)}` : 'the pages are not built: run npm run web',
      );
    }
    return reply
      .type(file.type)
      .header('content-security-policy', PAGE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(file.bytes);
  };
  const pagesOn = ['phone', ...(ctx.config.fleet.enabled ? ['fleet'] : [])];
  for (const page of pagesOn) {
    app.get(`/${page}`, async (_req, reply) => reply.redirect(`/${page}/`));
    app.get(`/${page}/`, async (_req, reply) => send(reply, `${page}/index.html`));
    app.get(`/${page}/:file`, async (req, reply) =>
      send(reply, `${page}/${(req.params as { file: string }).file}`),
    );
  }
  app.get('/phone/config.json', async (_req, reply) =>
    reply.header('cache-control', 'no-cache').send(settings),
  );
  app.get('/', async (_req, reply) => reply.redirect('/phone/'));
}

/** loadPages that never fails the server: a missing or unreadable folder is logged by the caller. */
export async function tryLoadPages(dir: string): Promise<{ pages?: Pages; problem?: string }> {
  try {
    const pages = await loadPages(dir);
    return pages ? { pages } : { problem: `no built pages in ${dir} (npm run web)` };
  } catch (err) {
    return { problem: `pages in ${dir}: ${errorMessage(err)}` };
  }
}
