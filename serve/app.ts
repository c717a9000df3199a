import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { splitList } from '../common/configFormats.js';
import { errorMessage, isBookrecError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { apiError } from './api.js';
import type { ServeConfig } from './config.js';
import { hostCheck } from './hostCheck.js';
import { HttpError } from './httpError.js';
import type { ServeMetrics } from './metrics.js';
import type { ModelSlot } from './modelSlot.js';
import { packageRoutes } from './packageRoutes.js';
import { type Pages, pageRoutes } from './pages.js';
import { recommendRoutes } from './recommendRoute.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The model version that answered (the metrics label); empty for routes that use no model. */
    modelVersion: string;
  }
}

export interface AppContext {
  config: ServeConfig;
  slot: ModelSlot;
  metrics: ServeMetrics;
  log: Logger;
  /** The built pages (phone, fleet); undefined: not built, their routes answer 404 saying so. */
  pages?: Pages;
  /** Routes added by the fleet dashboard when it is on. */
  extend?: (app: FastifyInstance) => void;
}

/**
 * The HTTP service: Fastify with the limits that keep it up under bad input (a body limit checked before
 * parsing, a deadline for receiving a request, a connection cap), every refusal a JSON error naming the
 * problem, metrics per route and model version, and only for the host names it serves (hostCheck.ts).
 * Routes live in their own modules.
 */
export function buildApp(ctx: AppContext): FastifyInstance {
  const { config, slot, metrics, log } = ctx;
  const timeout = config.http.requestTimeoutMs;
  const app = Fastify({
    logger: false,
    bodyLimit: config.http.bodyLimitBytes,
    requestTimeout: timeout,
    // Node checks request deadlines on this interval (30 s by default): a slow client is cut near its deadline.
    http: { connectionsCheckingInterval: Math.min(1000, timeout), headersTimeout: timeout },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    clientErrorHandler: (err, socket) => {
      // Errors before a request exists (malformed HTTP, a client too slow to send its request).
      const timedOut = (err as NodeJS.ErrnoException).code === 'ERR_HTTP_REQUEST_TIMEOUT';
      const status = timedOut ? 408 : 400;
      const body = JSON.stringify(
        apiError(
          timedOut ? 'REQUEST_TIMEOUT' : 'BAD_HTTP',
          timedOut
            ? `the request did not arrive within ${timeout} ms`
            : `malformed HTTP request (${(err as NodeJS.ErrnoException).code ?? 'parse error'})`,
        ),
      );
      if (socket.writable) {
        socket.end(
          `HTTP/1.1 ${status} ${timedOut ? 'Request Timeout' : 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      } else socket.destroy();
    },
  });
  app.server.maxConnections = config.http.maxConnections;
  // The API speaks JSON only: a text body is 415, not a string handed to a handler.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('modelVersion', '');

  app.addHook('onResponse', (request, reply, done) => {
    metrics.observe(
      request.routeOptions.url ?? '(unmatched)',
      request.method,
      reply.statusCode,
      request.modelVersion || 'none',
      reply.elapsedTime,
    );
    done();
  });

  hostCheck(app, splitList(config.allowedHosts));

  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send(apiError('NOT_FOUND', `no route ${request.method} ${request.url.slice(0, 200).split('?')[0]}`));
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const refusal = describeError(err, config);
    if (refusal.status >= 500) {
      log.error('request failed', { route: request.routeOptions.url, error: errorMessage(err) });
    }
    reply.code(refusal.status).send(apiError(refusal.code, refusal.message, refusal.problems));
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const served = slot.current;
    if (!served) {
      return reply.code(503).send({
        ready: false,
        reason: config.channel ? `no release of channel ${config.channel} installed yet` : 'no model loaded',
      });
    }
    return {
      ready: true,
      model: { name: served.name, version: served.version, engine: served.model.engine.kind },
    };
  });
  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  recommendRoutes(app, { slot, limits: config.http });
  packageRoutes(app, { slot });
  pageRoutes(app, { pages: ctx.pages, config });
  ctx.extend?.(app);
  return app;
}

interface Refusal {
  status: number;
  code: string;
  message: string;
  problems?: string[];
}

/** Fastify's and our own errors as a status and a JSON error; anything unknown is a 500. */
function describeError(err: Error & { code?: string; statusCode?: number }, config: ServeConfig): Refusal {
  if (err instanceof HttpError) {
    return { status: err.status, code: err.code, message: err.message, problems: err.problems };
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        code: 'BODY_TOO_LARGE',
        message: `the request body is over the limit of ${config.http.bodyLimitBytes} bytes`,
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'send the body as application/json' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, code: 'BAD_JSON', message: 'the body is empty; send a JSON object' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, code: 'BAD_HTTP', message: 'the Content-Length does not match the body' };
  }
  if (err.name === 'SyntaxError' || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return { status: 400, code: 'BAD_JSON', message: `the body is not valid JSON (${err.message})` };
  }
  if (isBookrecError(err)) return { status: 500, code: err.code, message: err.message };
  const status = err.statusCode ?? 500;
  if (status < 500) return { status, code: err.code ?? `HTTP_${status}`, message: err.message };
  return { status: 500, code: 'INTERNAL', message: 'internal error (logged on the server)' };
}
