import { BookrecError } from '../errors.js';
import { StrictObject } from './jsonFields.js';

/**
 * The books a model package can recommend, in the model's item order: dense index i (input column i and
 * output score i of the model) is catalogue[i]. The device speaks titles and authors from it.
 */
export const CATALOGUE_FILE = 'catalogue.json';

export interface BookEntry {
  /** goodbooks `book_id`. */
  id: number;
  title: string;
  /** As goodbooks writes them: comma-separated names. */
  authors: string;
  /** Original publication year; null when unknown. Negative for works before the common era. */
  year: number | null;
  /** Language code as in the data ('eng', 'en-US', ...); '' when unknown. */
  language: string;
}

export type Catalogue = readonly BookEntry[];

/** Checks a catalogue read from a package: an array of entries with unique positive integer ids. */
export function validateCatalogue(value: unknown, file: string, code = 'PACKAGE_INVALID'): BookEntry[] {
  if (!Array.isArray(value)) throw new BookrecError(code, `${file}: must be a JSON array of books`);
  const seen = new Set<number>();
  return value.map((raw, i) => {
    const o = StrictObject.of(raw, file, `[${i}]`, code);
    const book: BookEntry = {
      id: o.number('id', { integer: true, min: 1 }),
      title: o.string('title'),
      authors: o.string('authors'),
      year: o.nullableNumber('year', { integer: true }),
      language: o.string('language'),
    };
    o.end();
    if (seen.has(book.id)) throw o.fail('id', `${book.id} appears twice`);
    seen.add(book.id);
    return book;
  });
}

/** Book id -> dense index, for turning a listener's history (book ids) into model input columns. */
export function catalogueIndex(catalogue: Catalogue): Map<number, number> {
  return new Map(catalogue.map((b, i) => [b.id, i]));
}
