import { basename, join, resolve } from 'node:path';
import { type Command, operandsOf } from '../../common/command.js';
import { BookrecError } from '../../common/errors.js';
import { DEFAULT_LIMITS, isSemver } from '../../common/protocol/manifest.js';
import { assertName, isValidName } from '../../common/protocol/topics.js';
import { deployConfig, publishSchema } from '../config.js';
import { checkModelPackage } from '../packageCheck.js';
import { packageInfo, readListedPackage } from '../packageFiles.js';
import { publishRelease } from '../publisher.js';
import { openSession, readMetrics } from '../session.js';

const command: Command = {
  path: ['publish'],
  summary: 'sign a model package and publish it to a channel (chunks, then manifest)',
  usage: 'PACKAGE_DIR --channel CHANNEL',
  operands: ['PACKAGE_DIR'],
  schema: publishSchema,
  examples: [
    'bookrec publish out/quick/package --channel stable --percent 10',
    'BOOKREC_BROKER_URL=mqtts://broker.example:8883 bookrec publish out/full/package --channel stable --ca ca.pem',
  ],
  async run(args, ctx) {
    const operands = operandsOf(command, args);
    if (operands.length !== 1) throw new BookrecError('USAGE', 'give one package folder');
    const config = deployConfig(publishSchema, { env: ctx.env, argv: args });
    const dir = operands[0];
    if (!isSemver(config.publish.minAgentVersion)) {
      throw new BookrecError(
        'USAGE',
        `--min-agent-version must be x.y.z, got ${config.publish.minAgentVersion}`,
      );
    }
    // Only what the package lists, and never a key: see readListedPackage.
    const { files, unlisted } = await readListedPackage(dir, config.publish.chunkSize, DEFAULT_LIMITS);
    if (unlisted.length > 0) {
      ctx.log.warn('files the package does not list are left out of the release', {
        package: dir,
        files: unlisted.slice(0, 20),
        count: unlisted.length,
      });
    }
    // Before anything is signed or sent: devices would refuse a folder that is not an installable package.
    await checkModelPackage(dir, files);
    // Defaults from the package itself: its bookrec-package.json (model id, metrics), else the folder
    // name and a metrics.json beside the files.
    const info = packageInfo(files);
    const fallbackId = isValidName(info.modelId) ? info.modelId : basename(resolve(dir));
    const model = assertName('model id', config.publish.model || fallbackId);
    const metrics = config.publish.metrics
      ? await readMetrics(config.publish.metrics, false)
      : Object.keys(info.metrics).length > 0
        ? info.metrics
        : await readMetrics(join(dir, 'metrics.json'), true);
    const started = performance.now();
    const session = await openSession(config, ctx);
    const log = ctx.log.child('publish');
    try {
      const total = files.reduce((n, f) => n + f.entry.chunks, 0);
      const progress = ctx.progress('publish', total);
      const manifest = await publishRelease(
        {
          transport: session.link,
          topics: session.topics,
          log,
          retained: session.retained,
          inFlight: config.publish.inFlight,
          maxChunksPerSecond: config.publish.maxChunksPerSecond,
          signal: ctx.signal,
          onProgress: (done) => progress.update(done),
          persist: () => session.link.persist(),
          ledger: session.ledger,
        },
        {
          channel: session.channel,
          model,
          version: config.publish.version,
          minAgentVersion: config.publish.minAgentVersion,
          metrics,
          percent: config.rollout.percent,
          files,
        },
        session.key,
      );
      progress.finish();
      const bytes = files.reduce((n, f) => n + f.entry.size, 0);
      ctx.print(
        `published ${manifest.channel}/${manifest.model} version ${manifest.version} (serial ${manifest.serial}): ` +
          `${files.length} files, ${bytes} bytes, ${total} chunks, rollout ${manifest.rollout.percent}%, ` +
          `${((performance.now() - started) / 1000).toFixed(2)} s`,
      );
      if (unlisted.length > 0) {
        ctx.print(
          `left out ${unlisted.length} file(s) bookrec-package.json does not list: ${unlisted.slice(0, 5).join(', ')}${unlisted.length > 5 ? ', ...' : ''}`,
        );
      }
    } finally {
      await session.link.close();
    }
  },
};

export default command;
