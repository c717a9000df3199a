import { type Command, operandsOf } from '../../common/command.js';
import { BookrecError } from '../../common/errors.js';
import { discoveryTopics } from '../../common/protocol/homeAssistant.js';
import { assertName, TopicMap } from '../../common/protocol/topics.js';
import { deployConfig, forgetSchema } from '../config.js';
import { connectDeploy } from '../link.js';
import { readRetained } from '../retained.js';

/**
 * `bookrec fleet forget DEVICE`: a speaker that is gone for good leaves its retained status (and
 * counters, mode, Home Assistant configs) on the broker forever; this clears them with empty retained
 * messages and reads them back, since a broker whose ACL refuses deploy's write drops it silently.
 */
const command: Command = {
  path: ['fleet', 'forget'],
  summary: 'clear a device that is gone: its retained status, counters, mode and Home Assistant configs',
  usage: 'DEVICE',
  operands: ['DEVICE'],
  schema: forgetSchema,
  examples: [
    'bookrec fleet forget kitchen-old',
    'bookrec fleet forget kitchen --force   # even while it says online',
  ],
  async run(args, ctx) {
    const config = deployConfig(forgetSchema, { env: ctx.env, argv: args });
    const deviceId = assertName('device id', operandsOf(command, args)[0]);
    const topics = new TopicMap(config.prefix);
    const targets = [
      ...(['status', 'report', 'counters', 'mode'] as const).map((kind) => topics.device(deviceId, kind)),
      ...discoveryTopics(deviceId, config.forget.homeassistantPrefix),
    ];
    const link = await connectDeploy(config, ctx.log.child('mqtt'));
    const retained = { quietMs: config.broker.quietMs, timeoutMs: link.timeoutMs };
    try {
      const before = await readRetained(link, targets, retained);
      const status = before.get(topics.device(deviceId, 'status'))?.toString();
      if (status && /"state"\s*:\s*"online"/.test(status) && !config.forget.force) {
        throw new BookrecError(
          'DEVICE_ONLINE',
          `${deviceId} says it is online: it would announce itself again; stop it first, or pass --force`,
        );
      }
      for (const topic of before.keys()) await link.publish(topic, '', { retain: true });
      const left = [...(await readRetained(link, targets, retained)).keys()];
      if (left.length > 0) {
        throw new BookrecError(
          'FORGET_REFUSED',
          `the broker kept ${left.join(', ')} (does its ACL let this user write them? see deploy/mosquitto/acl)`,
        );
      }
      ctx.print(
        before.size === 0
          ? `nothing retained for ${deviceId}`
          : `forgot ${deviceId}: cleared ${before.size} retained topic${before.size === 1 ? '' : 's'} (${[...before.keys()].join(', ')})`,
      );
    } finally {
      await link.close();
    }
  },
};

export default command;
