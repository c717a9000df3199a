import { type Command, checkFlags } from '../common/command.js';
import { describeSchema, schemaFlags } from '../common/config.js';
import { BookrecError } from '../common/errors.js';
import { safeUrl } from '../common/mqttSettings.js';
import { checkAgentSetup } from './checkConfig.js';
import { agentConfig, agentSchema, resolveDeviceId, trustedKeyList } from './config.js';
import { AgentService } from './service.js';

const USAGE = 'bookrec agent [--check-config] [--config FILE.json] [settings...]';

/**
 * `bookrec agent`: runs the speaker service until SIGTERM/SIGINT (systemd's stop), then stops it
 * cleanly. `--check-config` validates the settings, prints them (never the password) and exits.
 */
const command: Command = {
  path: ['agent'],
  summary: 'run the speaker agent (systemd service); --check-config validates the settings and exits',
  flags: ['check-config'],
  help: () => [`usage: ${USAGE}`, '', 'settings:', ...describeSchema(agentSchema)].join('\n'),
  async run(args, ctx) {
    checkFlags(args, [...schemaFlags(agentSchema), 'check-config'], USAGE);
    const check = args.includes('--check-config');
    const config = agentConfig({ env: ctx.env, argv: args.filter((a) => a !== '--check-config') });
    const deviceId = resolveDeviceId(config);
    if (check) {
      const setup = await checkAgentSetup(config, ctx.env);
      if (setup.problems.length > 0) {
        throw new BookrecError(
          'CONFIG_INVALID',
          `the agent cannot run like this: ${setup.problems.join('; ')}`,
        );
      }
      ctx.print(
        [
          `configuration OK${setup.warnings.length > 0 ? ` (${setup.warnings.length} warning${setup.warnings.length > 1 ? 's' : ''})` : ''}`,
          ...setup.warnings.map((w) => `  warning: ${w}`),
          `  device id     ${deviceId}`,
          `  broker        ${safeUrl(config.broker.url)} (user ${config.broker.username || deviceId}, password ${config.broker.password ? 'set' : 'not set'})`,
          `  channel       ${config.channel} (prefix ${config.prefix}), ${trustedKeyList(config).length} trusted key(s)`,
          `  state dir     ${config.stateDir}`,
          `  signals       file ${config.signals.file || '-'}, mqtt ${config.signals.mqtt ? 'on' : 'off'}, gpio ${config.gpio.backend}`,
          `  output        ${config.output.mode}, ${config.output.count} books, tts ${config.tts.engine}, quiet ${config.quietHours.start ? `${config.quietHours.start}-${config.quietHours.end}` : 'never'}`,
          `  hermes        ${config.hermes.enabled ? `hermes/intent/${config.hermes.intent}` : 'off'}`,
        ].join('\n'),
      );
      return;
    }
    // Whatever the caller's umask (systemd sets 0077; a shell usually 0022): the state dir holds the
    // listener's history, and everything this process creates is its user's only.
    process.umask(0o077);
    const service = new AgentService({ config, env: ctx.env, log: ctx.log.child('agent') });
    try {
      await service.start();
      if (!ctx.signal.aborted) {
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
      }
    } finally {
      await service.stop();
    }
  },
};

export default command;
