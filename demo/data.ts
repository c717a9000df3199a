import { resolve } from 'node:path';
import type { CommandContext } from '../common/command.js';
import { buildConfig } from '../common/config.js';
import { BookrecError, errorMessage, isBookrecError } from '../common/errors.js';
import { downloadDataset } from '../trainer/commands/dataFetch.js';
import { dataFetchSchema } from '../trainer/config.js';
import { checkDataDir, type DemoConfig, demoSchema, hasData } from './config.js';

/**
 * The demo's first step on a new machine: when no data folder was given (the default is in use) and
 * none is there, fetch goodbooks-10k into it with `data fetch`'s code (progress bar, sha256, atomic
 * placement; BOOKREC_DATA_URL and the other fetch settings from the environment) and go on. A folder that
 * was given is never fetched into: a wrong path is said, not filled. Offline, the error says what to do.
 */
export async function ensureData(config: Pick<DemoConfig, 'dataDir'>, ctx: CommandContext): Promise<string> {
  const given = config.dataDir !== (demoSchema.dataDir as { default: string }).default;
  if (given || hasData(config.dataDir)) return checkDataDir(config.dataDir);
  const target = resolve(config.dataDir);
  ctx.print(`no goodbooks-10k data at ${target}: fetching it (as bookrec data fetch does)`);
  const { fetch } = buildConfig(dataFetchSchema, { env: ctx.env });
  try {
    await downloadDataset(fetch, target, ctx);
  } catch (err) {
    if (!isBookrecError(err) || err.code !== 'OFFLINE') throw err;
    try {
      checkDataDir(target);
    } catch (missing) {
      throw new BookrecError('DATA_MISSING', `${errorMessage(err)}. ${errorMessage(missing)}`, {
        cause: err,
      });
    }
  }
  return checkDataDir(target);
}
