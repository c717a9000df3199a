import { createReadStream } from 'node:fs';
import { BookrecError } from '../../common/errors.js';

export interface Line {
  line: string;
  lineNo: number;
  /** The file ended without a newline after this line (a sign of a truncated file). */
  unterminated: boolean;
}

/**
 * Streams a text file in batches of lines (one batch per 1 MiB read) with 1-based line numbers, without
 * loading it whole; handles CRLF. Batches, not single lines: one async step per line costs far more than
 * parsing it (seconds for a million lines, more under test runners' async hooks).
 */
export async function* readLineBatches(file: string): AsyncGenerator<Line[]> {
  let rest = '';
  let lineNo = 0;
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const text = rest + chunk;
      const batch: Line[] = [];
      let start = 0;
      for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
        const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        batch.push({ line: text.slice(start, end), lineNo: ++lineNo, unterminated: false });
        start = nl + 1;
      }
      rest = text.slice(start);
      if (batch.length > 0) yield batch;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new BookrecError('DATA_MISSING', `${file}: file not found`);
    throw new BookrecError('DATA_READ', `${file}: cannot read (${code ?? String(err)})`, { cause: err });
  }
  if (rest.length > 0) yield [{ line: rest, lineNo: ++lineNo, unterminated: true }];
}

/** Line by line, for readers that stop early (e.g. after a header). */
export async function* readLines(file: string): AsyncGenerator<Line> {
  for await (const batch of readLineBatches(file)) yield* batch;
}

/** Splits a header line into lower-cased, trimmed column names (strips a UTF-8 BOM). */
export function headerColumns(line: string): string[] {
  return line
    .replace(/^\uFEFF/, '')
    .split(',')
    .map((c) =>
      c
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase(),
    );
}

/** Finds the first column whose name is one of `names`; -1 when none. */
export function findColumn(columns: string[], names: readonly string[]): number {
  return columns.findIndex((c) => names.includes(c));
}
