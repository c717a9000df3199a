import { createReadStream, existsSync } from 'node:fs';
import { parse } from 'csv-parse';
import { BookrecError } from '../../common/errors.js';

/**
 * Labels for data sets without goodbooks' books.csv: an `items.csv` with an id column (`item_id`,
 * `book_id`, `item`, `book` or `id`) and a label column: `title`, `name` or `label` when there is one
 * (spoken as it is), else the first other column, spoken with its name ("isbn 0060090383"). Rows without
 * a usable id are skipped; a book without a row is spoken as "book <id>".
 */
export interface ItemLabels {
  file: string;
  /** The column the labels come from. */
  column: string;
  byId: Map<number, string>;
  skipped: number;
}

const ID_COLUMNS = ['item_id', 'book_id', 'item', 'book', 'id'];
const TITLE_COLUMNS = ['title', 'name', 'label'];

export async function loadItemLabels(file: string): Promise<ItemLabels> {
  if (!existsSync(file)) throw new BookrecError('DATA_MISSING', `${file}: file not found`);
  const parser = createReadStream(file).pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true, trim: true }),
  );
  let idAt = -1;
  let labelAt = -1;
  let column = '';
  let spokenAs: (v: string) => string = (v) => v;
  const byId = new Map<number, string>();
  let skipped = 0;
  let line = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      line++;
      if (line === 1) {
        const names = record.map((h) => h.trim().toLowerCase());
        idAt = names.findIndex((h) => ID_COLUMNS.includes(h));
        const titled = names.findIndex((h) => TITLE_COLUMNS.includes(h));
        labelAt = titled >= 0 ? titled : names.findIndex((_, i) => i !== idAt);
        if (idAt < 0 || labelAt < 0) {
          throw new BookrecError(
            'DATA_HEADER',
            `${file}:1: header "${record.join(',').slice(0, 80)}" needs an id column (${ID_COLUMNS.join(', ')}) and a label column`,
          );
        }
        column = names[labelAt];
        if (titled < 0) spokenAs = (v) => `${column} ${v}`;
        continue;
      }
      const id = Number(record[idAt]);
      const label = record[labelAt] ?? '';
      if (!Number.isSafeInteger(id) || id < 0 || label === '') {
        skipped++;
        continue;
      }
      if (!byId.has(id)) byId.set(id, spokenAs(label));
    }
  } catch (err) {
    if (err instanceof BookrecError) throw err;
    throw new BookrecError('DATA_CSV', `${file}:${line + 1}: ${(err as Error).message}`);
  }
  if (line === 0) throw new BookrecError('DATA_EMPTY', `${file}: the file is empty`);
  return { file, column, byId, skipped };
}
