import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { HttpError } from './httpError.js';

/**
 * The names this server answers to. A web page on another site can make a browser send requests here by
 * pointing its own host name at this address (DNS rebinding); the browser then sends that name in Host.
 * So a request is answered only when its Host is an IP address (it names no site, nothing to rebind),
 * localhost or a *.localhost name, or one of the configured host names.
 */
export function hostAllowed(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (!host) return false;
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::\d+)?$/.exec(host);
  if (bracketed) return isIP(bracketed[1]) === 6;
  const name = host.replace(/:\d+$/, '').replace(/\.$/, '').toLowerCase();
  if (isIP(name) === 4) return true;
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  return allowed.has(name);
}

/** Whether a listen address is loopback only (no other machine can reach it). */
export function isLoopback(bindHost: string): boolean {
  const host = bindHost.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(host);
}

/** Refuses (421) every request whose Host header is not one the server answers to. */
export function hostCheck(app: FastifyInstance, allowedHosts: string[]): void {
  const allowed = new Set(allowedHosts.map((h) => h.toLowerCase()));
  app.addHook('onRequest', async (req) => {
    if (!hostAllowed(req.headers.host, allowed)) {
      throw new HttpError(
        421,
        'HOST_NOT_ALLOWED',
        `this server does not answer to the host name ${JSON.stringify((req.headers.host ?? '').slice(0, 100))}: ` +
          'add it to --allowed-hosts (BOOKREC_SERVE_ALLOWED_HOSTS) if it is this server’s name',
      );
    }
  });
}
