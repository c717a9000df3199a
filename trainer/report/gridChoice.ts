import { readFile } from 'node:fs/promises';
import { BookrecError } from '../../common/errors.js';

/** The a and T a `bookrec grid` run chose (its grid-*.json), for `bookrec train --from-grid`. */
export async function readGridChoice(file: string): Promise<{ alpha: number; temperature: number }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new BookrecError('CONFIG_INVALID', `--from-grid ${file}: ${(err as Error).message}`);
  }
  let chosen: unknown;
  try {
    chosen = (JSON.parse(text) as { chosen?: unknown }).chosen;
  } catch {
    throw new BookrecError('CONFIG_INVALID', `--from-grid ${file}: not JSON`);
  }
  const c = chosen as { alpha?: unknown; temperature?: unknown } | undefined;
  const alpha = c?.alpha;
  const temperature = c?.temperature;
  if (
    typeof alpha !== 'number' ||
    !(alpha >= 0 && alpha <= 1) ||
    typeof temperature !== 'number' ||
    !(temperature > 0)
  ) {
    throw new BookrecError(
      'CONFIG_INVALID',
      `--from-grid ${file}: no "chosen": {"alpha": a in [0, 1], "temperature": T > 0} (is it a bookrec grid result?)`,
    );
  }
  return { alpha, temperature };
}
