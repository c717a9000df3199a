import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { contract, parseJsonBytes } from './contract.js';

/**
 * Commands to one device (devices/<id>/commands) and its replies (devices/<id>/replies), the
 * request/response shape zigbee2mqtt users know: every command carries an `id` chosen by the sender,
 * and every command gets exactly one reply with that id, `{id, ok: true, data}` or
 * `{id, ok: false, error: {code, message}}`, also when it is unknown or malformed (then `id` is the one
 * it carried, or null when none could be read). Not retained: a reply is for whoever asked now.
 */
export const COMMANDS = ['recommend', 'status', 'quiet'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** A command id: what the sender chose to match the reply; printable, no spaces, short. */
const ID = /^[\x21-\x7e]{1,64}$/;

/** Largest command payload read at all. */
export const MAX_COMMAND_BYTES = 4096;

const CommandId = () => Type.String({ pattern: ID.source, description: '1-64 printable ASCII characters' });

/**
 * When the sender sent the command (optional). A device that was offline gets its commands when it
 * returns (a persistent session); from `at` it can tell how long one waited (see speaksAfterQueue).
 */
const SentAt = () =>
  Type.Optional(Type.String({ maxLength: 64, description: 'an ISO 8601 time: when it was sent' }));

/**
 * A recommend command that waited longer than this (by its `at`) is answered and published but not
 * spoken: nobody asked the room for a book just now. Without `at` the device cannot tell, and speaks.
 */
export const SPEAK_WITHIN_MS = 5 * 60_000;

/** Commands without arguments. */
const PlainCommandSchema = Type.Object(
  {
    id: CommandId(),
    command: Type.Union([Type.Literal('recommend'), Type.Literal('status')], {
      description: 'recommend or status',
    }),
    at: SentAt(),
  },
  { additionalProperties: false },
);

/** Quiet mode on or off: no speech (answers are still published), kept across restarts. */
const QuietCommandSchema = Type.Object(
  {
    id: CommandId(),
    command: Type.Literal('quiet'),
    on: Type.Boolean({ description: 'true or false' }),
    at: SentAt(),
  },
  { additionalProperties: false },
);

export const CommandSchema = Type.Union([PlainCommandSchema, QuietCommandSchema], {
  description: `{id, command} with command one of ${COMMANDS.join(', ')}; quiet also takes on: true|false`,
});
export type Command = Static<typeof CommandSchema>;

/** What every command has: for problems said precisely when the command is not one we know. */
const commandBase = contract(
  'command',
  'a command',
  Type.Object({
    id: CommandId(),
    command: Type.Union(
      COMMANDS.map((c) => Type.Literal(c)),
      { description: `one of ${COMMANDS.join(', ')}` },
    ),
  }),
);

/** Each command's own shape, for problems said precisely (a union's errors are vague). */
const SHAPE_OF: Record<CommandName, ReturnType<typeof contract>> = {
  recommend: contract('command', 'recommend', PlainCommandSchema),
  status: contract('command', 'status', PlainCommandSchema),
  quiet: contract('command', 'quiet', QuietCommandSchema),
};

const ReplyError = Type.Object(
  {
    code: Type.String({ pattern: '^[A-Z][A-Z0-9_]{0,63}$', description: 'an error code (UPPER_SNAKE)' }),
    message: Type.String({ maxLength: 1000 }),
  },
  { additionalProperties: false },
);

const okReply = <D extends TSchema>(data: D) =>
  Type.Object(
    {
      id: CommandId(),
      ok: Type.Literal(true),
      command: Type.Union(
        COMMANDS.map((c) => Type.Literal(c)),
        { description: `one of ${COMMANDS.join(', ')}` },
      ),
      data,
    },
    { additionalProperties: false },
  );

export const ReplySchema = Type.Union(
  [
    okReply(Type.Unknown({ description: 'what the command returns (see docs/agent.md)' })),
    Type.Object(
      {
        id: Type.Union([CommandId(), Type.Null()]),
        ok: Type.Literal(false),
        error: ReplyError,
      },
      { additionalProperties: false },
    ),
  ],
  { description: '{id, ok: true, command, data} or {id, ok: false, error: {code, message}}' },
);
export type Reply = Static<typeof ReplySchema>;

export const commandContract = contract('command', 'A command to one device', CommandSchema);
export const replyContract = contract('reply', 'A device’s reply to one command', ReplySchema);

export type ParsedCommand =
  | { ok: true; command: Command }
  | { ok: false; id: string | null; error: { code: string; message: string } };

/** Reads a command payload; a bad one becomes the error reply it deserves, with its id when it has one. */
export function parseCommand(payload: Uint8Array): ParsedCommand {
  const fail = (id: string | null, code: string, message: string): ParsedCommand => ({
    ok: false,
    id,
    error: { code, message },
  });
  if (payload.length > MAX_COMMAND_BYTES) {
    return fail(
      null,
      'COMMAND_TOO_LARGE',
      `command is ${payload.length} bytes (at most ${MAX_COMMAND_BYTES})`,
    );
  }
  const json = parseJsonBytes(payload);
  if (!json.ok) return fail(null, 'COMMAND_INVALID', 'command is not valid JSON');
  const value = json.value as { id?: unknown; command?: unknown } | null;
  const id = value !== null && typeof value === 'object' ? readableId(value.id) : null;
  if (commandContract.is(value)) {
    if (value.at !== undefined && Number.isNaN(Date.parse(value.at))) {
      return fail(
        id,
        'COMMAND_INVALID',
        `command: at must be an ISO 8601 time, got ${JSON.stringify(value.at)}`,
      );
    }
    return { ok: true, command: value };
  }
  const unknownCommand =
    value !== null &&
    typeof value === 'object' &&
    typeof value.command === 'string' &&
    !(COMMANDS as readonly string[]).includes(value.command);
  if (unknownCommand) {
    return fail(
      id,
      'COMMAND_UNKNOWN',
      `unknown command ${JSON.stringify(value.command)} (known: ${COMMANDS.join(', ')})`,
    );
  }
  const named =
    value !== null && typeof value === 'object' && (COMMANDS as readonly unknown[]).includes(value.command);
  const known = named ? SHAPE_OF[(value as { command: CommandName }).command] : undefined;
  const problems = (known ?? commandBase).problems(value);
  return fail(id, 'COMMAND_INVALID', `command: ${problems.join('; ')}`);
}

function readableId(id: unknown): string | null {
  return typeof id === 'string' && ID.test(id) ? id : null;
}

/** Whether a recommend command is still worth saying aloud at `now` (SPEAK_WITHIN_MS after its `at`). */
export function speaksAfterQueue(command: Command, now: number): boolean {
  return command.at === undefined || now - Date.parse(command.at) <= SPEAK_WITHIN_MS;
}

/** The reply to a command that ran. */
export function okReplyFor(command: Command, data: unknown): Reply {
  return { id: command.id, ok: true, command: command.command, data };
}
