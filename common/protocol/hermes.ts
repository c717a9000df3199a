import { type Static, Type } from '@sinclair/typebox';
import { contract } from './contract.js';

/**
 * The Hermes protocol payloads the agent uses (Rhasspy and other Hermes voice stacks), on Hermes's own
 * topics outside the bookrec prefix. Only the fields the agent reads or writes are described; an intent
 * carries many more (input, slots, ...), which are allowed and ignored.
 */
export const HERMES_TOPICS = {
  intent: (name: string) => `hermes/intent/${name}`,
  say: 'hermes/tts/say',
  endSession: 'hermes/dialogueManager/endSession',
} as const;

/**
 * A siteId or sessionId: the agent echoes both in its answers and logs them, so one holding control
 * characters (ESC sequences, newlines, C1, line separators, bidi overrides) is refused at the door and
 * never travels on to a voice stack or a terminal. Real ones are names and UUIDs.
 */
const HermesId = (what: string) =>
  Type.String({
    minLength: 1,
    maxLength: 128,
    pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]+$',
    description: `${what}: 1 to 128 characters, no control characters`,
  });

export const HermesIntentSchema = Type.Object(
  {
    siteId: Type.Optional(HermesId('the satellite that heard the question')),
    sessionId: Type.Optional(HermesId('the dialogue session')),
  },
  { additionalProperties: true },
);
export type HermesIntent = Static<typeof HermesIntentSchema>;

export const HermesSaySchema = Type.Object(
  {
    text: Type.String({ minLength: 1, maxLength: 4000 }),
    siteId: HermesId('the satellite to speak on'),
    sessionId: Type.Optional(HermesId('the dialogue session')),
    lang: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  },
  { additionalProperties: false },
);
export type HermesSay = Static<typeof HermesSaySchema>;

export const HermesEndSessionSchema = Type.Object(
  { sessionId: HermesId('the dialogue session'), text: Type.Optional(Type.String({ maxLength: 4000 })) },
  { additionalProperties: false },
);
export type HermesEndSession = Static<typeof HermesEndSessionSchema>;

export const hermesIntentContract = contract(
  'hermes-intent',
  'Hermes intent asking for a recommendation (read)',
  HermesIntentSchema,
);
export const hermesSayContract = contract('hermes-say', 'Hermes text to speak (written)', HermesSaySchema);
export const hermesEndSessionContract = contract(
  'hermes-end-session',
  'Hermes end of a dialogue session without speech (written)',
  HermesEndSessionSchema,
);
