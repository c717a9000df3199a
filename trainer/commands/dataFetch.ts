import type { Command, CommandContext } from '../../common/command.js';
import { buildConfig } from '../../common/config.js';
import { BookrecError } from '../../common/errors.js';
import type { Progress } from '../../common/progress.js';
import { type DataFetchConfig, dataFetchSchema } from '../config.js';
import type { DownloadResult } from '../data/download.js';
import { fetchDataset, importDataset } from '../data/fetch.js';

/** Said whenever the network is the problem: the ways to run without it. */
const LOCAL_COPY_HINT =
  'offline? import a local copy with "bookrec data fetch --from DIR", or point --data DIR (BOOKREC_DATA_DIR) at one';

const command: Command = {
  path: ['data', 'fetch'],
  summary: 'download the goodbooks-10k data set (or import a local copy with --from)',
  usage: '',
  schema: dataFetchSchema,
  examples: [
    'bookrec data fetch                      # into data/goodbooks-10k, resuming a broken download',
    'bookrec data fetch --from ~/Downloads/goodbooks-10k --data data/goodbooks-10k',
  ],
  async run(args, ctx) {
    const config = buildConfig(dataFetchSchema, { env: ctx.env, argv: args });
    const target = config.dataDir;

    if (config.fetch.from) {
      const files = await importDataset(config.fetch.from, target, { log: ctx.log });
      ctx.print(
        `imported ${files.length} files from ${config.fetch.from} into ${target}: ${files.join(', ')}`,
      );
      return;
    }

    await downloadDataset(config.fetch, target, ctx);
  },
};

/**
 * The download of `data fetch`, for any command that needs the data (the demo on a new machine): a
 * progress bar, the archive's sha256 printed, the CSVs placed atomically; offline, what to do instead.
 */
export async function downloadDataset(
  fetch: DataFetchConfig['fetch'],
  target: string,
  ctx: CommandContext,
): Promise<void> {
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
    ctx.print(`sha256 ${sha256}  ${fetch.url}  ${bytes} bytes${resumed}`);
  };
  try {
    const result = await fetchDataset(
      {
        url: fetch.url,
        sha256: fetch.sha256,
        timeoutMs: fetch.timeoutSeconds * 1000,
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
}

export default command;
