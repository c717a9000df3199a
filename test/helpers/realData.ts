import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from this file's place in test/helpers/. */
const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Where the real goodbooks-10k copy is looked for: $BOOKREC_DATA_DIR, else ../shared/datasets/goodbooks-10k. */
export function realDataPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.BOOKREC_DATA_DIR || resolve(REPO_ROOT, '..', 'shared', 'datasets', 'goodbooks-10k');
}

/** The two calls of a tap Test this needs (a narrow type, so its own test can hand in a recorder). */
interface Skippable {
  skip(name: string, cb: () => void): unknown;
  fail(message: string): unknown;
}

/**
 * The real data folder for tests that need it, or undefined after recording why not: in CI (CI set) a
 * missing folder is a failure, because a green run that skipped the real-data tests proves little; on a
 * developer's machine it is a skip with the reason. Callers return when this gives undefined.
 */
export function realDataDir(t: Skippable, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = realDataPath(env);
  if (existsSync(join(dir, 'ratings.csv'))) return dir;
  const why = `real goodbooks-10k data not found at ${dir} (set BOOKREC_DATA_DIR to a folder with ratings.csv)`;
  if (env.CI) t.fail(`${why}; CI requires it`);
  else t.skip(why, () => {});
  return undefined;
}
