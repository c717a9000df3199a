import { randomBytes } from 'node:crypto';
import { type Command, operandsOf } from '../../common/command.js';
import { BookrecError } from '../../common/errors.js';
import { type Command as DeviceCommand, type Reply, replyContract } from '../../common/protocol/commands.js';
import { parseJsonBytes } from '../../common/protocol/contract.js';
import { assertName, TopicMap } from '../../common/protocol/topics.js';
import { nearest } from '../../common/suggest.js';
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
 * with that id from devices/<id>/replies, printed as JSON (a failed command exits 1 with the device's
 * code). Subscribed before sending, so a fast reply is not missed; other replies are someone else's.
 * The command carries `at`: a device that was offline still answers when it returns, but does not say a
 * recommendation aloud that waited more than a few minutes (common/protocol/commands.ts).
 */
const command: Command = {
  path: ['ask'],
  summary: 'send a device a command (recommend, status, quiet-on, quiet-off) and print its reply',
  usage: `DEVICE ${Object.keys(WORDS).join('|')}`,
  operands: ['DEVICE', 'COMMAND'],
  schema: askSchema,
  examples: [
    'bookrec ask kitchen recommend',
    'bookrec ask kitchen status --wait-seconds 30',
    'bookrec ask kitchen quiet-on',
  ],
  async run(args, ctx) {
    const config = deployConfig(askSchema, { env: ctx.env, argv: args });
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
          const json = parseJsonBytes(payload);
          if (json.ok && replyContract.is(json.value) && json.value.id === id) resolve(json.value);
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
        ctx.print(JSON.stringify(reply.data, null, 2));
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
