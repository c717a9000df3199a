import { type Command, checkFlags } from '../../common/command.js';
import { describeSchema, schemaFlags } from '../../common/config.js';
import { TopicMap } from '../../common/protocol/topics.js';
import { deployConfig, deploySchema } from '../config.js';
import { FleetView, fleetSnapshot } from '../fleet.js';
import { QualityView, qualitySnapshot } from '../fleetQuality.js';
import { connectDeploy } from '../link.js';

const USAGE = 'bookrec fleet [--watch]';
/** Live mode redraws at most this often, however fast statuses arrive. */
const REDRAW_MS = 1000;

const command: Command = {
  path: ['fleet'],
  summary:
    'table of devices from their retained status, and online quality per model version (one snapshot, or --watch)',
  help: () => [`usage: ${USAGE}`, '', 'settings:', ...describeSchema(deploySchema)].join('\n'),
  async run(args, ctx) {
    checkFlags(args, schemaFlags(deploySchema), USAGE);
    const config = deployConfig({ env: ctx.env, argv: args });
    const topics = new TopicMap(config.prefix);
    const link = await connectDeploy(config, ctx.log.child('mqtt'));
    try {
      if (!config.fleet.watch) {
        const retained = { quietMs: config.broker.quietMs, timeoutMs: link.timeoutMs };
        const view = await fleetSnapshot(link, topics, retained);
        const quality = await qualitySnapshot({ transport: link, topics, retained });
        ctx.print(`${view.render()}\n\n${quality.render()}`);
        return;
      }
      await watch(link, topics, ctx);
    } finally {
      await link.close();
    }
  },
};

/** Keeps the table live until SIGINT/SIGTERM: every status change redraws it, throttled. */
async function watch(
  link: Awaited<ReturnType<typeof connectDeploy>>,
  topics: TopicMap,
  ctx: Parameters<Command['run']>[1],
): Promise<void> {
  const view = new FleetView();
  const quality = new QualityView();
  let dirty = true;
  const draw = () => {
    if (!dirty) return;
    dirty = false;
    // On a terminal redraw in place; in a log, print each new table.
    ctx.print(`${ctx.interactive ? '\x1b[2J\x1b[H' : ''}${view.render()}\n\n${quality.render()}`);
  };
  const remove = link.onMessage((topic, payload) => {
    if (view.apply(topics, topic, payload) || quality.apply(topics, topic, payload)) dirty = true;
  });
  const timer = setInterval(draw, REDRAW_MS);
  try {
    await link.subscribe([
      topics.allDevices('status'),
      topics.allDevices('report'),
      topics.allDevices('counters'),
    ]);
    if (!ctx.signal.aborted) {
      await new Promise<void>((resolve) =>
        ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
    }
    draw();
  } finally {
    clearInterval(timer);
    remove();
  }
}

export default command;
