import { randomBytes } from 'node:crypto';
import { type Command, operandsOf } from '../../common/command.js';
import { BookrecError } from '../../common/errors.js';
import { type Command as DeviceCommand, type Reply, replyContract } from '../../common/protocol/commands.js';
import { parseJsonBytes } from '../../common/protocol/contract.js';
import { assertName, TopicMap } from '../../common/protocol/topics.js';
import { nearest } from '../../common/suggest.js';
import { replyForPeople } from '../askOutput.js';
import { askSchema, deployConfig } from '../config.js';
import { connectDeploy } from '../link.js';

/** The words `bookrec ask` takes and the command each sends (common/protocol/commands.ts). */
const WORDS: Record<string, (id: string) => DeviceCommand> = {
  recommend: (id) => ({ id, command: 'recommend' }),
  status: (id) => ({ id, command: 'status' }),
  'quiet-on': (id) => ({ id, command: 'quiet', on: true }),
  'quiet-off': (id) => ({ id, command: 'quiet', on: false }),
};

/**
 * `bookrec ask DEVICE COMMAND`: one command with a fresh id to devices/<id>/commands, then the reply
 * with that id from devices/<id>/replies, printed for a person on a terminal (the sentence and the
 * books) and as JSON into a pipe or with --json (a failed command exits 1 with the device's code).
 * Subscribed before sending, so a fast reply is not missed; other replies are someone else's.
 * The command carries `at`: a device that was offline still answers when it returns, but does not say a
 * recommendation aloud that waited more than a few minutes (common/protocol/commands.ts).
 */
const command: Command = {
  path: ['ask'],
  summary: 'send a device a command (recommend, status, quiet-on, quiet-off) and print its reply',
  usage: `DEVICE ${Object.keys(WORDS).join('|')}`,
  operands: ['DEVICE', 'COMMAND'],
  schema: askSchema,
  switches: [{ name: 'json', doc: 'Print the reply as JSON (the default when stdout is not a terminal)' }],
  examples: [
    'bookrec ask kitchen recommend',
    'bookrec ask kitchen status --wait-seconds 30',
    'bookrec ask kitchen quiet-on',
    "bookrec ask kitchen recommend --json | jq -r '.books[].title'",
  ],
  async run(args, ctx) {
    // --json is how the reply is printed, not a setting: the config never sees it.
    const json = !ctx.interactive || args.includes('--json');
    const config = deployConfig(askSchema, { env: ctx.env, argv: args.filter((a) => a !== '--json') });
    const [device, word] = operandsOf(command, args);
    const make = Object.hasOwn(WORDS, word) ? WORDS[word] : undefined;
    if (!make) {
      const near = nearest(word, Object.keys(WORDS));
      throw new BookrecError(
        'USAGE',
        `unknown command "${word}"${near ? ` (did you mean "${near}"?)` : ''}; one of ${Object.keys(WORDS).join(', ')}`,
      );
    }
    const deviceId = assertName('device id', device);
    const topics = new TopicMap(config.prefix);
    const id = `ask-${randomBytes(6).toString('hex')}`;
    const waitMs = config.ask.timeoutSeconds * 1000;
    const link = await connectDeploy(config, ctx.log.child('mqtt'));
    try {
      let remove = () => {};
      let timer: NodeJS.Timeout | undefined;
      const replied = new Promise<Reply>((resolve, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new BookrecError(
                'NO_REPLY',
                `${deviceId} did not answer "${word}" within ${config.ask.timeoutSeconds} s (is it online? bookrec fleet shows its state)`,
              ),
            ),
          waitMs,
        );
        remove = link.onMessage((topic, payload) => {
          if (topic !== topics.device(deviceId, 'replies')) return;
          const parsed = parseJsonBytes(payload);
          if (parsed.ok && replyContract.is(parsed.value) && parsed.value.id === id) resolve(parsed.value);
        });
      });
      try {
        await link.subscribe([topics.device(deviceId, 'replies')]);
        await link.publish(
          topics.device(deviceId, 'commands'),
          JSON.stringify({ ...make(id), at: new Date().toISOString() }),
          {
            retain: false,
            json: true,
          },
        );
        ctx.log.debug('command sent', { deviceId, id, command: word });
        const reply = await replied;
        if (!reply.ok) {
          throw new BookrecError(reply.error.code, `${deviceId} answered: ${reply.error.message}`);
        }
        ctx.print(json ? JSON.stringify(reply.data, null, 2) : replyForPeople(deviceId, word, reply.data));
      } finally {
        clearTimeout(timer);
        remove();
      }
    } finally {
      await link.close();
    }
  },
};

export default command;
