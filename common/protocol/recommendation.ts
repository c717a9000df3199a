import { type Static, Type } from '@sinclair/typebox';
import { EVENT_KINDS } from '../model/encoding.js';
import { contract } from './contract.js';
import { BookId, IsoTime, Name, PositiveInt } from './fields.js';

/** What a device publishes on devices/<id>/recommendations when it answers (not retained). */
export const RECOMMENDATION_SCHEMA = 1;

export const TRIGGERS = ['button', 'command', 'hermes'] as const;
export type TriggerSource = (typeof TRIGGERS)[number];

const RecommendedBookSchema = Type.Object(
  {
    id: BookId(),
    title: Type.String({ maxLength: 1000 }),
    authors: Type.String({ maxLength: 1000 }),
    score: Type.Union([Type.Number(), Type.Null()], { description: "the model's score, or null (fallback)" }),
  },
  { additionalProperties: false },
);

export const RecommendationMessageSchema = Type.Object(
  {
    schema: Type.Literal(RECOMMENDATION_SCHEMA, { description: `${RECOMMENDATION_SCHEMA}` }),
    deviceId: Name('a device id'),
    trigger: Type.Union(
      TRIGGERS.map((t) => Type.Literal(t)),
      { description: TRIGGERS.join(', ') },
    ),
    books: Type.Array(RecommendedBookSchema, { maxItems: 50 }),
    reason: Type.String({ maxLength: 1000 }),
    basedOn: Type.Union(
      [
        Type.Object(
          {
            id: BookId(),
            title: Type.String({ maxLength: 1000 }),
            kind: Type.Union(EVENT_KINDS.map((k) => Type.Literal(k))),
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ],
      { description: 'the history book the reason names, or null' },
    ),
    source: Type.Union([Type.Literal('model'), Type.Literal('fallback')], {
      description: 'model or fallback',
    }),
    modelVersion: PositiveInt(),
    text: Type.String({ maxLength: 4000 }),
    at: IsoTime(),
  },
  { additionalProperties: false },
);

export type RecommendationMessage = Static<typeof RecommendationMessageSchema>;
export type RecommendedBook = Static<typeof RecommendedBookSchema>;

export const recommendationContract = contract(
  'recommendation',
  'A device’s answer: ranked books, the reason and the sentence it spoke',
  RecommendationMessageSchema,
);
