import { existsSync } from 'node:fs';
import { BookrecError } from '../../common/errors.js';
import { readCsvRows } from './csvRows.js';

/**
 * Labels for data sets without goodbooks' books.csv: an `items.csv` with an id column (`item_id`,
 * `book_id`, `item`, `book` or `id`) and a label column: `title`, `name` or `label` when there is one
 * (spoken as it is), else the first other column, spoken with its name ("isbn 0060090383"). Rows without
 * a usable id or label, and rows with broken quoting, are skipped, counted and the first few named by
 * line; a book without a row is spoken as "book <id>".
 */
export interface ItemLabels {
  file: string;
  /** The column the labels come from. */
  column: string;
  byId: Map<number, string>;
  skipped: number;
  /** The first skipped rows, as "file:line: reason". */
  skippedExamples: string[];
}

const ID_COLUMNS = ['item_id', 'book_id', 'item', 'book', 'id'];
const TITLE_COLUMNS = ['title', 'name', 'label'];
const EXAMPLES_KEPT = 5;

export async function loadItemLabels(file: string): Promise<ItemLabels> {
  if (!existsSync(file)) throw new BookrecError('DATA_MISSING', `${file}: file not found`);
  let header = false;
  let idAt = -1;
  let labelAt = -1;
  let column = '';
  let spokenAs: (v: string) => string = (v) => v;
  const byId = new Map<number, string>();
  let skipped = 0;
  const skippedExamples: string[] = [];
  const skip = (line: number, reason: string) => {
    skipped++;
    if (skippedExamples.length < EXAMPLES_KEPT) skippedExamples.push(`${file}:${line}: ${reason}`);
  };
  const row = (record: string[], line: number) => {
    if (!header) {
      header = true;
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
      return;
    }
    const rawId = record[idAt] ?? '';
    const id = Number(rawId);
    const label = record[labelAt] ?? '';
    if (rawId === '' || !Number.isSafeInteger(id) || id < 0)
      skip(line, `id "${rawId.slice(0, 40)}" is not a number`);
    else if (label === '') skip(line, `no ${column}`);
    else if (!byId.has(id)) byId.set(id, spokenAs(label));
  };
  try {
    await readCsvRows(
      file,
      {
        row,
        broken: (line, reason) => {
          if (!header)
            throw new BookrecError('DATA_HEADER', `${file}:${line}: header line unreadable: ${reason}`);
          skip(line, reason);
        },
      },
      { trim: true },
    );
  } catch (err) {
    if (err instanceof BookrecError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new BookrecError('DATA_READ', `${file}: cannot read (${code ?? String(err)})`, { cause: err });
  }
  if (!header) throw new BookrecError('DATA_EMPTY', `${file}: the file is empty`);
  return { file, column, byId, skipped, skippedExamples };
}
