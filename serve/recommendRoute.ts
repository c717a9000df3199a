import type { FastifyInstance } from 'fastify';
import type { HistoryItem } from '../common/inference/ranking.js';
import { rank } from '../common/inference/ranking.js';
import { sentenceFor } from '../common/inference/sentence.js';
import { parseSignal } from '../common/protocol/signals.js';
import { type ApiLimits, type RecommendRequest, recommendRequestContract } from './api.js';
import { HttpError } from './httpError.js';
import { versionLabel } from './metrics.js';
import type { ModelSlot } from './modelSlot.js';

/** Problems listed at most in one refusal: a 100,000-item history of bad items gets ten, not 100,000. */
const MAX_PROBLEMS = 10;
const DEFAULT_COUNT = 5;

/**
 * POST /v1/recommend: a reader's history in, ranked books with the reason out, by the shared ranking
 * (common/inference) the speaker and the phone page use. Unknown book ids are reported in `unknown` and
 * otherwise ignored; an empty or all-unknown history gets the package's popular fallback.
 */
export function recommendRoutes(app: FastifyInstance, ctx: { slot: ModelSlot; limits: ApiLimits }): void {
  const request = recommendRequestContract(ctx.limits);
  app.post('/v1/recommend', async (req) => {
    const served = ctx.slot.current;
    if (!served) throw new HttpError(503, 'NOT_READY', 'no model in service yet (see /readyz)');
    const body = req.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new HttpError(400, 'BAD_REQUEST', 'the body must be a JSON object {history, count?, exclude?}');
    }
    const problems = request.problems(body, MAX_PROBLEMS);
    if (problems.length > 0) {
      throw new HttpError(400, 'BAD_REQUEST', `request: ${problems.join('; ')}`, problems);
    }
    const { history, count, exclude } = body as RecommendRequest;
    const now = Date.now();
    const items: HistoryItem[] = [];
    for (const [i, event] of history.entries()) {
      const parsed = parseSignal(event, now);
      if (!parsed.ok) {
        const problem = `history[${i}]: ${parsed.reason}`;
        throw new HttpError(400, 'BAD_REQUEST', `request: ${problem}`, [problem]);
      }
      items.push(parsed.signal);
    }
    // One synchronous step from here: a model swap cannot happen in the middle of this ranking.
    const ranking = rank(served.model, items, { count: count ?? DEFAULT_COUNT, exclude, now: new Date(now) });
    req.modelVersion = versionLabel(served);
    return {
      model: { name: served.name, version: served.version, engine: served.model.engine.kind },
      source: ranking.source,
      reason: ranking.reason,
      basedOn: ranking.basedOn,
      books: ranking.books,
      unknown: ranking.unknown,
      sentence: sentenceFor(ranking),
    };
  });

  app.get('/v1/model', async (req) => {
    const served = ctx.slot.current;
    if (!served) throw new HttpError(503, 'NOT_READY', 'no model in service yet (see /readyz)');
    req.modelVersion = versionLabel(served);
    const m = served.model.manifest;
    return {
      name: served.name,
      version: served.version,
      from: served.from,
      engine: served.model.engine.kind,
      books: served.model.catalogue.length,
      modelId: m.modelId,
      createdAt: m.createdAt,
      metrics: m.metrics,
      signed: served.signed
        ? {
            channel: served.signed.manifest.channel,
            serial: served.signed.manifest.serial,
            keyId: served.signed.manifest.keyId,
          }
        : null,
    };
  });
}
