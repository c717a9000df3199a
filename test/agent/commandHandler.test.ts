import t from 'tap';
import { CommandHandler } from '../../agent/commandHandler.js';
import { Outbox } from '../../agent/outbox.js';
import { BookrecError } from '../../common/errors.js';
import { createMemoryLogger } from '../../common/log.js';
import { MemoryBroker } from '../helpers/memoryBroker.js';
import { waitFor } from './helpers.js';

const COMMANDS = 'bookrec/devices/d/commands';
const REPLIES = 'bookrec/devices/d/replies';

async function setup(actions: ConstructorParameters<typeof CommandHandler>[0]['actions'], maxRunning = 4) {
  const broker = new MemoryBroker();
  const device = broker.client();
  const operator = broker.client();
  const replies: Record<string, unknown>[] = [];
  operator.onMessage((_topic, payload) => void replies.push(JSON.parse(payload.toString())));
  await operator.subscribe([REPLIES]);
  const log = createMemoryLogger();
  const outbox = new Outbox({
    publish: (topic, payload, options) => device.publish(topic, payload, options),
    online: () => true,
    maxMessages: 100,
    log,
  });
  const handler = new CommandHandler({
    transport: () => device,
    commandsTopic: COMMANDS,
    repliesTopic: REPLIES,
    outbox,
    actions,
    log,
    maxRunning,
  });
  await handler.start();
  const send = (payload: unknown) =>
    operator.publish(COMMANDS, typeof payload === 'string' ? payload : JSON.stringify(payload), {
      retain: false,
    });
  return { handler, replies, send, log };
}

t.test('each command gets one reply: its data, or the error code of what failed', async (t) => {
  const { handler, replies, send } = await setup({
    recommend: async () => ({ books: [1, 2] }),
    status: async () => {
      throw new BookrecError('DISK_FULL', 'no space left');
    },
    quiet: async (command) => ({ quiet: command.command === 'quiet' && command.on }),
  });
  await send({ id: 'a', command: 'recommend' });
  await send({ id: 'b', command: 'status' });
  await send('garbage');
  await send({ id: 'q', command: 'quiet', on: true });
  await waitFor('four replies', () => replies.length === 4);
  t.same(
    replies.find((r) => r.id === 'q'),
    { id: 'q', ok: true, command: 'quiet', data: { quiet: true } },
    'the action is given the command, with its arguments',
  );
  t.same(
    replies.find((r) => r.id === 'a'),
    { id: 'a', ok: true, command: 'recommend', data: { books: [1, 2] } },
  );
  t.same(
    replies.find((r) => r.id === 'b'),
    {
      id: 'b',
      ok: false,
      error: { code: 'DISK_FULL', message: 'no space left' },
    },
  );
  t.match(
    replies.find((r) => r.id === null),
    { ok: false, error: { code: 'COMMAND_INVALID' } },
  );
  await handler.stop();
  await send({ id: 'c', command: 'recommend' });
  await new Promise((r) => setImmediate(r));
  t.equal(replies.length, 4, 'after stop, commands are not taken');
});

t.test('more commands than may run at once are answered BUSY, not queued without bound', async (t) => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const { handler, replies, send } = await setup(
    { recommend: () => gate.then(() => 'done'), status: async () => 'ok', quiet: async () => 'ok' },
    2,
  );
  for (const id of ['1', '2', '3']) await send({ id, command: 'recommend' });
  await waitFor('the BUSY reply', () => replies.length === 1);
  t.match(replies[0], { id: '3', ok: false, error: { code: 'BUSY' } });
  let stopped = false;
  const stopping = handler.stop().then(() => {
    stopped = true;
  });
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  t.notOk(stopped, 'stop waits while commands run');
  release();
  await stopping;
  await waitFor('the two answers', () => replies.length === 3);
  t.same(replies.map((r) => r.id).sort(), ['1', '2', '3']);
});
