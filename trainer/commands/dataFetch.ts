import { type Command, checkFlags } from '../../common/command.js';
import { describeSchema, schemaFlags } from '../../common/config.js';
import { BookrecError } from '../../common/errors.js';
import type { Progress } from '../../common/progress.js';
import { trainerConfig, trainerSchema } from '../config.js';
import type { DownloadResult } from '../data/download.js';
import { fetchDataset, importDataset } from '../data/fetch.js';

const USAGE =
  'bookrec data fetch [--data DIR] [--url URL] [--sha256 HEX] [--timeout S] | --from DIR [--data DIR]';

/** Said whenever the network is the problem: the ways to run without it. */
const LOCAL_COPY_HINT =
  'offline? import a local copy with "bookrec data fetch --from DIR", or point --data DIR (BOOKREC_DATA_DIR) at one';

const command: Command = {
  path: ['data', 'fetch'],
  summary: 'download the goodbooks-10k data set (or import a local copy with --from)',
  help: () =>
    [
      `usage: ${USAGE}`,
      '',
      'Downloads the release archive (resuming a broken download), prints its sha256, and places the CSV',
      'files in the data folder atomically; the old folder stays as it was if anything fails.',
      '',
      'settings:',
      ...describeSchema(trainerSchema),
    ].join('\n'),
  async run(args, ctx) {
    checkFlags(args, schemaFlags(trainerSchema), USAGE);
    const config = trainerConfig({ env: ctx.env, argv: args });
    const target = config.dataDir;

    if (config.fetch.from) {
      const files = await importDataset(config.fetch.from, target, { log: ctx.log });
      ctx.print(
        `imported ${files.length} files from ${config.fetch.from} into ${target}: ${files.join(', ')}`,
      );
      return;
    }

    let progress: Progress | undefined;
    let shownTotal: number | undefined;
    const onProgress = (received: number, total: number | undefined) => {
      // A new bar when the size becomes known or changes (a restart after a refused resume).
      if (!progress || total !== shownTotal) {
        progress?.finish();
        shownTotal = total;
        progress = ctx.progress('download', total ?? 0);
      }
      progress.update(received);
    };
    const onDownloaded = ({ bytes, sha256, resumedFrom }: DownloadResult) => {
      progress?.finish();
      progress = undefined;
      const resumed = resumedFrom > 0 ? ` (resumed at byte ${resumedFrom})` : '';
      ctx.print(`sha256 ${sha256}  ${config.fetch.url}  ${bytes} bytes${resumed}`);
    };
    try {
      const result = await fetchDataset(
        {
          url: config.fetch.url,
          sha256: config.fetch.sha256,
          timeoutMs: config.fetch.timeoutSeconds * 1000,
          target,
        },
        { log: ctx.log, signal: ctx.signal, onProgress, onDownloaded },
      );
      ctx.print(`placed ${result.files.length} files in ${target}: ${result.files.join(', ')}`);
    } catch (err) {
      progress?.finish();
      if (err instanceof BookrecError && err.code === 'OFFLINE') {
        throw new BookrecError('OFFLINE', `${err.message}; ${LOCAL_COPY_HINT}`, { cause: err });
      }
      throw err;
    }
  },
};

export default command;
