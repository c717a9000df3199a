import { type Static, Type } from '@sinclair/typebox';
import { type Contract, contract } from '../common/protocol/contract.js';
import { BookId } from '../common/protocol/fields.js';
import { SignalSchema } from '../common/protocol/signals.js';

/**
 * The HTTP API's request body, one TypeBox schema like the wire contract's payloads: its type, its
 * validator and its error words ("history[3].kind must be one of ...") come from here. A history event is
 * exactly a device's signal (common/protocol/signals.ts), so one format describes a reader's history
 * wherever it travels. The limits are settings, so the schema is built from them.
 */
export interface ApiLimits {
  maxHistory: number;
  maxCount: number;
  maxExclude: number;
}

export function recommendRequestSchema(limits: ApiLimits) {
  return Type.Object(
    {
      history: Type.Array(SignalSchema, {
        maxItems: limits.maxHistory,
        description: `a list of at most ${limits.maxHistory} events {bookId, kind, at?}`,
      }),
      count: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: limits.maxCount,
          description: `an integer 1..${limits.maxCount}`,
        }),
      ),
      exclude: Type.Optional(
        Type.Array(BookId(), {
          maxItems: limits.maxExclude,
          description: `a list of at most ${limits.maxExclude} book ids`,
        }),
      ),
    },
    { additionalProperties: false },
  );
}

export type RecommendRequest = Static<ReturnType<typeof recommendRequestSchema>>;

export function recommendRequestContract(
  limits: ApiLimits,
): Contract<ReturnType<typeof recommendRequestSchema>> {
  return contract('recommend-request', 'POST /v1/recommend body', recommendRequestSchema(limits));
}

/** The error body of every refused request. */
export interface ApiError {
  error: { code: string; message: string; problems?: string[] };
}

export function apiError(code: string, message: string, problems?: string[]): ApiError {
  return { error: problems ? { code, message, problems } : { code, message } };
}
