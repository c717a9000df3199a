import t from 'tap';
import {
  MAX_COMMAND_BYTES,
  okReplyFor,
  parseCommand,
  replyContract,
  SPEAK_WITHIN_MS,
  speaksAfterQueue,
} from '../../../common/protocol/commands.js';

const bytes = (text: string) => new TextEncoder().encode(text);

t.test('a well-formed command parses; its reply fits the contract', async (t) => {
  const parsed = parseCommand(bytes('{"id": "c-1", "command": "recommend"}'));
  t.same(parsed, { ok: true, command: { id: 'c-1', command: 'recommend' } });
  if (!parsed.ok) return;
  const reply = okReplyFor(parsed.command, { anything: 1 });
  t.same(reply, { id: 'c-1', ok: true, command: 'recommend', data: { anything: 1 } });
  t.same(replyContract.problems(reply), []);
});

t.test('every bad command becomes the error reply it deserves, with its id when readable', async (t) => {
  const cases: [string, string | null, string, RegExp][] = [
    [
      '{"id": "c-2", "command": "dance"}',
      'c-2',
      'COMMAND_UNKNOWN',
      /unknown command "dance" \(known: recommend, status, quiet\)/,
    ],
    ['{"command": "recommend"}', null, 'COMMAND_INVALID', /id missing/],
    ['{"id": "has space", "command": "status"}', null, 'COMMAND_INVALID', /id must be 1-64 printable ASCII/],
    ['{"id": "c-3", "command": "status", "x": 1}', 'c-3', 'COMMAND_INVALID', /unknown field x/],
    [
      '{"id": "c-4", "command": 7}',
      'c-4',
      'COMMAND_INVALID',
      /command must be one of recommend, status, quiet/,
    ],
    ['{"id": "q-1", "command": "quiet"}', 'q-1', 'COMMAND_INVALID', /^command: on missing$/],
    ['{"id": "q-2", "command": "quiet", "on": "yes"}', 'q-2', 'COMMAND_INVALID', /on must be true or false/],
    ['{"id": "q-3", "command": "status", "on": true}', 'q-3', 'COMMAND_INVALID', /unknown field on/],
    [
      '{"id": "t-1", "command": "status", "at": "yesterday"}',
      't-1',
      'COMMAND_INVALID',
      /at must be an ISO 8601 time/,
    ],
    ['[1, 2]', null, 'COMMAND_INVALID', /the payload: expected object/],
    ['not json', null, 'COMMAND_INVALID', /not valid JSON/],
    [
      `{"id": "c-5", "pad": "${'x'.repeat(MAX_COMMAND_BYTES)}"}`,
      null,
      'COMMAND_TOO_LARGE',
      /bytes \(at most 4096\)/,
    ],
  ];
  for (const [payload, id, code, message] of cases) {
    const parsed = parseCommand(bytes(payload));
    t.match(parsed, { ok: false, id, error: { code, message } }, payload.slice(0, 40));
    if (parsed.ok) continue;
    const reply = { id: parsed.id, ok: false as const, error: parsed.error };
    t.same(replyContract.problems(reply), [], 'the error reply fits the contract');
  }
});

t.test('quiet takes on: true or false; its reply data says the mode', async (t) => {
  const parsed = parseCommand(bytes('{"id": "ha-quiet-on", "command": "quiet", "on": true}'));
  t.same(parsed, { ok: true, command: { id: 'ha-quiet-on', command: 'quiet', on: true } });
  if (!parsed.ok) return;
  t.same(replyContract.problems(okReplyFor(parsed.command, { quiet: true })), []);
});

t.test('at: when it was sent; a recommendation that waited too long is not said aloud', async (t) => {
  const at = '2026-01-10T12:00:00Z';
  const parsed = parseCommand(bytes(`{"id": "r-1", "command": "recommend", "at": "${at}"}`));
  t.same(parsed, { ok: true, command: { id: 'r-1', command: 'recommend', at } });
  if (!parsed.ok) return;
  const sent = Date.parse(at);
  t.ok(speaksAfterQueue(parsed.command, sent + SPEAK_WITHIN_MS), 'within the limit: spoken');
  t.notOk(speaksAfterQueue(parsed.command, sent + SPEAK_WITHIN_MS + 1), 'beyond it: answered silently');
  t.ok(speaksAfterQueue(parsed.command, sent - 3_600_000), 'a sender clock ahead is no reason for silence');
  t.ok(
    speaksAfterQueue({ id: 'r-2', command: 'recommend' }, sent),
    'without at the device cannot tell: spoken',
  );
});
