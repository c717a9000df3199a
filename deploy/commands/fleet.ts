import type { Command, CommandContext } from '../../common/command.js';
import { TopicMap } from '../../common/protocol/topics.js';
import { deployConfig, type FleetConfig, fleetSchema } from '../config.js';
import { FleetState, readFleet } from '../fleet.js';
import { changeLine, type FleetRow } from '../fleetTable.js';
import { connectDeploy, type DeployLink } from '../link.js';

/** Live mode looks at the state at most this often, however fast messages arrive. */
const REDRAW_MS = 1000;

const command: Command = {
  path: ['fleet'],
  summary:
    'devices from their retained status: last seen, channel, model, rollout, install, acceptance (--watch: live)',
  usage: '',
  schema: fleetSchema,
  examples: [
    'bookrec fleet',
    'bookrec fleet --watch',
    'bookrec fleet --json | jq \'.devices[] | select(.state != "online") | .deviceId\'',
  ],
  async run(args, ctx) {
    const config = deployConfig(fleetSchema, { env: ctx.env, argv: args });
    const topics = new TopicMap(config.prefix);
    const staleMs = config.fleet.staleHours * 3_600_000;
    const link = await connectDeploy(config, ctx.log.child('mqtt'));
    try {
      if (config.fleet.watch) return await watch(link, topics, config, ctx);
      const state = await readFleet(link, topics, {
        quietMs: config.broker.quietMs,
        timeoutMs: link.timeoutMs,
      });
      const now = new Date();
      ctx.print(
        config.fleet.json ? JSON.stringify(state.json(now, staleMs), null, 2) : state.render(now, staleMs),
      );
    } finally {
      await link.close();
    }
  },
};

/**
 * Keeps the view live until SIGINT/SIGTERM. On a terminal the table is redrawn in place; into a pipe or
 * a log, each change is one line (one JSON object with --json), so `bookrec fleet --watch | grep` works.
 */
async function watch(
  link: DeployLink,
  topics: TopicMap,
  config: FleetConfig,
  ctx: CommandContext,
): Promise<void> {
  const state = new FleetState(topics);
  const staleMs = config.fleet.staleHours * 3_600_000;
  const inPlace = ctx.interactive && !config.fleet.json;
  let shown = new Map<string, FleetRow>();
  let dirty = true;
  const draw = () => {
    const now = new Date();
    if (inPlace) {
      // The state turns stale with time alone, so a terminal is redrawn even without messages.
      // Home, the table with each line cleared to its end, then the rest of the screen cleared.
      const text = state.render(now, staleMs).replaceAll('\n', '\x1b[K\n');
      ctx.print(`\x1b[H${text}\x1b[K\x1b[J`);
      return;
    }
    if (!dirty) return;
    dirty = false;
    const rows = new Map(state.rows(now, staleMs).map((r) => [r.deviceId, r]));
    for (const id of new Set([...shown.keys(), ...rows.keys()])) {
      const before = shown.get(id);
      const after = rows.get(id);
      if (config.fleet.json) {
        if (before && !after)
          ctx.print(JSON.stringify({ at: now.toISOString(), deviceId: id, removed: true }));
        else if (after && changeLine(before, after, now))
          ctx.print(JSON.stringify({ at: now.toISOString(), ...after }));
      } else {
        const line = changeLine(before, after, now);
        if (line) ctx.print(line);
      }
    }
    shown = rows;
  };
  const remove = link.onMessage((topic, payload) => {
    if (state.apply(topic, payload)) dirty = true;
  });
  if (inPlace) ctx.print('\x1b[2J');
  const timer = setInterval(draw, REDRAW_MS);
  try {
    await link.subscribe(state.filters());
    if (!ctx.signal.aborted) {
      await new Promise<void>((resolve) =>
        ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
    }
    dirty = true;
    draw();
  } finally {
    clearInterval(timer);
    remove();
  }
}

export default command;
