import type { Command } from '../common/command.js';
import { BookrecError } from '../common/errors.js';
import { safeUrl } from '../common/mqttSettings.js';
import { checkAgentSetup, startProblems } from './checkConfig.js';
import { agentConfig, agentSchema, resolveDeviceId, trustedKeyList } from './config.js';
import { removeDiscovery } from './homeAssistant.js';
import { describeMissing, missingPrograms } from './programs.js';
import { AgentService } from './service.js';
import { lockHolder } from './stateLock.js';

/**
 * `bookrec agent`: runs the speaker service until SIGTERM/SIGINT (systemd's stop), then stops it
 * cleanly. `--check-config` validates the settings and that the programs they need are installed,
 * prints them (never the password) and exits.
 */
const command: Command = {
  path: ['agent'],
  summary: 'run the speaker agent (systemd service); --check-config validates the settings and exits',
  usage: '',
  schema: agentSchema,
  switches: [
    { name: 'check-config', doc: 'Validate the settings, print them (never the password) and exit' },
    {
      name: 'homeassistant-remove',
      doc: "Clear this speaker's Home Assistant discovery config from the broker and exit (before uninstalling)",
    },
  ],
  examples: [
    'bookrec agent --check-config --config /etc/bookrec/agent.json',
    'bookrec agent --trusted-keys "$(cat ~/.config/bookrec/deploy-key.pub)" --state-dir .bookrec/agent --gpio-backend gpiomon --gpio-recommend 17',
  ],
  async run(args, ctx) {
    const check = args.includes('--check-config');
    const remove = args.includes('--homeassistant-remove');
    const config = agentConfig({
      env: ctx.env,
      argv: args.filter((a) => a !== '--check-config' && a !== '--homeassistant-remove'),
    });
    const deviceId = resolveDeviceId(config);
    const missing = missingPrograms(config, ctx.env);
    // One validation path: start refuses what startProblems finds, and the check reports the same lines.
    const cannotRun = (problems: string[]) =>
      new BookrecError('CONFIG_INVALID', `the agent cannot run like this: ${problems.join('; ')}`);
    if (check) {
      const { problems, warnings } = await checkAgentSetup(config, ctx.env);
      if (problems.length > 0) throw cannotRun(problems);
      if (missing.length > 0)
        throw new BookrecError(
          'PROGRAM_MISSING',
          `the settings are valid, but they need programs that are not installed: ${describeMissing(missing)}`,
        );
      const holder = await lockHolder(config.stateDir);
      ctx.print(
        [
          'configuration OK',
          `  device id     ${deviceId}`,
          `  broker        ${safeUrl(config.broker.url)} (user ${config.broker.username || deviceId}, password ${config.broker.password ? 'set' : 'not set'})`,
          `  channel       ${config.channel} (prefix ${config.prefix}), ${trustedKeyList(config).length} trusted key(s)`,
          `  state dir     ${config.stateDir}${holder ? ` (in use by the running agent, pid ${holder})` : ''}`,
          `  signals       file ${config.signals.file || '-'}, mqtt ${config.signals.mqtt ? 'on' : 'off'}, gpio ${config.gpio.backend}, mpd ${config.signals.mpd ? `${config.signals.mpd} (password ${config.signals.mpdPassword ? 'set' : 'not set'})` : 'off'}`,
          `  output        ${config.output.mode}, ${config.output.count} books, tts ${config.tts.engine}, quiet ${config.quietHours.start ? `${config.quietHours.start}-${config.quietHours.end}` : 'never'}`,
          `  hermes        ${config.hermes.enabled ? `hermes/intent/${config.hermes.intent}` : 'off'}`,
          `  home assist.  ${config.homeassistant.enabled ? `discovery under ${config.homeassistant.prefix}/` : 'off'}`,
          ...warnings.map((w) => `warning: ${w}`),
        ].join('\n'),
      );
      return;
    }
    const problems = await startProblems(config);
    if (problems.length > 0) throw cannotRun(problems);
    // Not fatal: without a speech engine or GPIO tool the speaker still answers over MQTT and Hermes.
    if (missing.length > 0)
      ctx.log.warn('programs the settings need are not installed', { missing: describeMissing(missing) });
    // Whatever the caller's umask (systemd sets 0077; a shell usually 0022): the state dir holds the
    // listener's history, and everything this process creates is its user's only.
    process.umask(0o077);
    const service = new AgentService({ config, env: ctx.env, log: ctx.log.child('agent') });
    if (remove) {
      const { link, outbox, discovery } = service;
      await removeDiscovery({ link, outbox, discovery, timeoutMs: config.broker.timeoutSeconds * 1000 });
      ctx.print(`removed the Home Assistant discovery config of ${deviceId}`);
      return;
    }
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
