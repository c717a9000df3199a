import type { FastifyRequest } from 'fastify';
import type { Logger } from '../../common/log.js';
import { RateLimit } from '../../common/rateLimit.js';
import { HttpError } from '../httpError.js';
import { bearerToken, sameToken } from '../operatorToken.js';
import { GuessLimit, type GuessLimitOptions } from './guessLimit.js';

export interface TokenGuardContext {
  /** The configured operator token; empty: no actions (and, off loopback, no dashboard: config refuses it). */
  token: string;
  /** Whether reading the fleet needs the token too (the server listens beyond loopback). */
  protectReads: boolean;
  log: Logger;
  limits?: Partial<GuessLimitOptions>;
}

/**
 * The dashboard's door: checks the operator token of a fleet request, refuses an address that keeps
 * guessing (429 until its window ends), and logs refusals (the address and the route, never a token),
 * at most a few lines a minute with a count of those not shown.
 */
export class TokenGuard {
  private readonly guesses: GuessLimit;
  private readonly logLimit: RateLimit;

  constructor(private readonly ctx: TokenGuardContext) {
    this.guesses = new GuessLimit(ctx.limits);
    this.logLimit = new RateLimit(10, 60_000, ctx.limits?.now);
  }

  /** Throws the refusal unless the request may read the fleet. */
  read(req: FastifyRequest): void {
    if (this.ctx.protectReads) this.check(req, 'reading the fleet off loopback');
  }

  /** Throws the refusal unless the request may act (rollout, rollback, forget). */
  act(req: FastifyRequest): void {
    if (!this.ctx.token) {
      throw new HttpError(
        403,
        'READ_ONLY',
        'the dashboard is read-only: set BOOKREC_FLEET_TOKEN to allow actions',
      );
    }
    this.check(req, 'this action');
  }

  private check(req: FastifyRequest, what: string): void {
    const wait = this.guesses.blockedFor(req.ip);
    if (wait > 0) {
      throw new HttpError(
        429,
        'TOO_MANY_GUESSES',
        `too many wrong tokens from this address; try again in ${Math.ceil(wait / 1000)} s`,
      );
    }
    const given = bearerToken(req.headers.authorization);
    if (!given) {
      throw new HttpError(
        401,
        'UNAUTHORIZED',
        `${what} needs the operator token (Authorization: Bearer ...)`,
      );
    }
    if (this.ctx.token && sameToken(given, this.ctx.token)) return;
    const failures = this.guesses.fail(req.ip);
    const held = this.logLimit.take();
    if (held !== undefined) {
      this.ctx.log.warn('wrong operator token', {
        from: req.ip,
        route: `${req.method} ${req.url.split('?')[0].slice(0, 100)}`,
        failures,
        ...(held > 0 ? { notShown: held } : {}),
      });
    }
    throw new HttpError(401, 'UNAUTHORIZED', `${what} needs the operator token; the one given is wrong`);
  }
}
