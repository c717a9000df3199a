import { BookrecError } from '../../common/errors.js';
import { readCsvRows } from './csvRows.js';

/**
 * The book catalogue from goodbooks-10k's books.csv: what the speaker says about a recommended book.
 *
 * books.csv is real, quoted CSV (titles hold commas, doubled quotes and, in principle, line breaks), so it
 * goes through csv-parse, streamed (trainer/data/csvRows.ts), keeping only the five columns the catalogue
 * needs.
 *
 * Policy for bad input (documented in docs/data.md):
 * - file not found, empty file, or a header without book_id, title or authors: an error naming the file
 *   (and line 1);
 * - broken quoting (a quote never closed, or text after a closing quote): that row is skipped like the
 *   ones below and reading goes on at the next line (more than MAX_BROKEN such rows: an error);
 * - a row with too few fields (e.g. a truncated last line), a non-integer id, or an id seen before:
 *   skipped, counted, and the first few named by line in the summary;
 * - an empty or non-numeric year: the book is kept without a year;
 * - no valid row at all: an error.
 */
export interface Book {
  /** goodbooks `book_id`: the id ratings.csv and to_read.csv use. */
  id: number;
  title: string;
  /** As in the file: one string, several authors separated by ", ". */
  authors: string;
  /** original_publication_year; negative for BC, absent when the file has none. */
  year?: number;
  /** language_code, e.g. "eng" or "en-US"; absent when empty. */
  language?: string;
}

export interface CatalogueSummary {
  file: string;
  rows: number;
  kept: number;
  duplicates: number;
  skipped: number;
  /** The first skipped rows, as "file:line: reason". */
  skippedExamples: string[];
}

export interface Catalogue {
  /** Ascending by id. */
  books: readonly Book[];
  byId: ReadonlyMap<number, Book>;
  summary: CatalogueSummary;
}

const ID_COLUMN = 'book_id';
const TITLE_COLUMN = 'title';
const AUTHORS_COLUMN = 'authors';
const ORIGINAL_TITLE_COLUMN = 'original_title';
const YEAR_COLUMN = 'original_publication_year';
const LANGUAGE_COLUMN = 'language_code';
const EXAMPLES_KEPT = 5;
const INTEGER = /^\s*\d+\s*$/;

interface Columns {
  id: number;
  title: number;
  authors: number;
  originalTitle: number;
  year: number;
  language: number;
  width: number;
}

function headerToColumns(file: string, header: string[]): Columns {
  const names = header.map((h) => h.trim().toLowerCase());
  const find = (name: string) => names.indexOf(name);
  const missing = [ID_COLUMN, TITLE_COLUMN, AUTHORS_COLUMN].filter((name) => find(name) < 0);
  if (missing.length > 0) {
    throw new BookrecError(
      'DATA_HEADER',
      `${file}:1: header "${header.join(',').slice(0, 80)}" has no ${missing.join(', ')} column`,
    );
  }
  const columns = {
    id: find(ID_COLUMN),
    title: find(TITLE_COLUMN),
    authors: find(AUTHORS_COLUMN),
    originalTitle: find(ORIGINAL_TITLE_COLUMN),
    year: find(YEAR_COLUMN),
    language: find(LANGUAGE_COLUMN),
  };
  // Optional columns count towards the width only when present: a row must hold every column we read.
  return { ...columns, width: Math.max(...Object.values(columns)) + 1 };
}

/** "2008.0" -> 2008, "-720.0" -> -720; empty or garbage -> undefined (the book stays, without a year). */
function parseYear(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const year = Number(text);
  return Number.isFinite(year) ? Math.trunc(year) : undefined;
}

export async function loadCatalogue(file: string): Promise<Catalogue> {
  const byId = new Map<number, Book>();
  let columns: Columns | undefined;
  let rows = 0;
  let skipped = 0;
  let duplicates = 0;
  const examples: string[] = [];
  const skip = (line: number, reason: string) => {
    skipped++;
    if (examples.length < EXAMPLES_KEPT) examples.push(`${file}:${line}: ${reason}`);
  };
  const row = (record: string[], line: number) => {
    if (!columns) {
      columns = headerToColumns(file, record);
      return;
    }
    rows++;
    if (record.length < columns.width) {
      skip(line, `expected ${columns.width} fields, found ${record.length} (truncated line?)`);
      return;
    }
    const rawId = record[columns.id];
    if (!INTEGER.test(rawId) || Number(rawId) > 0x7fffffff) {
      skip(line, `book_id "${rawId.slice(0, 40)}" is not a non-negative 31-bit integer`);
      return;
    }
    const id = Number(rawId);
    if (byId.has(id)) {
      duplicates++;
      skip(line, `book_id ${id} seen before (first one kept)`);
      return;
    }
    const title = record[columns.title].trim() || (record[columns.originalTitle] ?? '').trim();
    const language = columns.language >= 0 ? record[columns.language].trim() : '';
    const book: Book = { id, title, authors: record[columns.authors].trim() };
    const year = columns.year >= 0 ? parseYear(record[columns.year]) : undefined;
    if (year !== undefined) book.year = year;
    if (language) book.language = language;
    byId.set(id, book);
  };

  try {
    await readCsvRows(file, {
      row,
      broken: (line, reason) => {
        // Without a header no row means anything: the next line must not be taken for it.
        if (!columns)
          throw new BookrecError('DATA_HEADER', `${file}:${line}: header line unreadable: ${reason}`);
        rows++;
        skip(line, reason);
      },
    });
  } catch (err) {
    throw asDataError(file, err);
  }

  if (!columns) throw new BookrecError('DATA_EMPTY', `${file}: file is empty (no header line)`);
  if (byId.size === 0) {
    const why = examples.length > 0 ? ` (first problem: ${examples[0]})` : '';
    throw new BookrecError('DATA_EMPTY', `${file}: no valid book rows${why}`);
  }
  const books = [...byId.values()].sort((a, b) => a.id - b.id);
  return {
    books,
    byId,
    summary: { file, rows, kept: books.length, duplicates, skipped, skippedExamples: examples },
  };
}

function asDataError(file: string, err: unknown): BookrecError {
  if (err instanceof BookrecError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new BookrecError('DATA_MISSING', `${file}: file not found`);
  return new BookrecError('DATA_READ', `${file}: cannot read (${code ?? String(err)})`, { cause: err });
}
