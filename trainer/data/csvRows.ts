import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { type InfoRecord, parse } from 'csv-parse';
import { BookrecError } from '../../common/errors.js';

/**
 * Quoted CSV (books.csv, items.csv), streamed through csv-parse, that survives broken quoting. csv-parse
 * stops at a quote never closed (it reads to the end of the file looking for the closing one, and then
 * names the last line) or at text after a closing quote. Both files are optional labels, so one bad row
 * must not cost the whole catalogue: the row is reported with the line it starts on, and parsing resumes
 * on the next line (a quote left open runs on into the rows after it, which are good: they are read
 * again). The parser is started again at that byte offset; past MAX_BROKEN such rows the file is taken for
 * something that is not CSV.
 */
export interface CsvRowHandlers {
  /** Each record, with the line it starts on (1-based; a quoted field may span lines). */
  row: (record: string[], line: number) => void;
  /** A row csv-parse could not read; it is left out. */
  broken: (line: number, reason: string) => void;
}

export const MAX_BROKEN = 100;

interface Position {
  /** Byte offset just past the last record (and its line break). */
  bytes: number;
  /** Lines up to and including the last record's last line. */
  lines: number;
}

/** The line a record starts on: csv-parse reports the line it ends on, and a quoted field may span lines. */
function startLine(endLine: number, record: string[]): number {
  let breaks = 0;
  for (const field of record) for (const ch of field) if (ch === '\n') breaks++;
  return endLine - breaks;
}

/** One pass from `from`; resolves with the parse error that stopped it, or undefined at the end. */
async function pass(
  file: string,
  from: Position,
  options: { trim: boolean },
  handlers: CsvRowHandlers,
  last: Position,
): Promise<(Error & { code?: string; lines?: number }) | undefined> {
  const parser = parse({
    bom: from.bytes === 0,
    relax_column_count: true,
    skip_empty_lines: true,
    trim: options.trim,
    // Rows are handled here, synchronously, not read from the stream: records parsed in the same chunk
    // as an error would otherwise be dropped with the stream, and the resume point would be wrong.
    on_record: (record: string[], context: InfoRecord) => {
      const endLine = from.lines + context.lines;
      handlers.row(record, startLine(endLine, record));
      last.bytes = from.bytes + context.bytes;
      last.lines = endLine;
      return null;
    },
  });
  const source = createReadStream(file, { start: from.bytes, highWaterMark: 1 << 16 });
  // pipe() does not forward a read error (e.g. ENOENT): hand it to the parser so finished() sees it.
  source.on('error', (err) => parser.destroy(err));
  source.pipe(parser);
  parser.resume();
  try {
    await finished(parser);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('CSV_')) return err as Error & { code: string };
    throw err;
  }
}

/** The lines from byte `from` on, each with the byte offset just past it: read as far as asked. */
async function* linesFrom(file: string, from: number): AsyncGenerator<{ text: string; end: number }> {
  const handle = await open(file, 'r');
  try {
    let pending = Buffer.alloc(0);
    let offset = from;
    for (;;) {
      const chunk = Buffer.alloc(1 << 16);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, offset + pending.length);
      if (bytesRead === 0) {
        if (pending.length > 0) yield { text: pending.toString('utf8'), end: offset + pending.length };
        return;
      }
      pending = Buffer.concat([pending, chunk.subarray(0, bytesRead)]);
      for (let nl = pending.indexOf(10); nl >= 0; nl = pending.indexOf(10)) {
        yield { text: pending.subarray(0, nl).toString('utf8'), end: offset + nl + 1 };
        offset += nl + 1;
        pending = pending.subarray(nl + 1);
      }
    }
  } finally {
    await handle.close();
  }
}

function reasonOf(err: Error & { code?: string }, ranOn: boolean): string {
  if (err.code === 'CSV_QUOTE_NOT_CLOSED' || ranOn) return 'a quote opened in this row is never closed';
  return err.message.replace(/ at line \d+.*$/s, '');
}

/** Reads `file`, calling `handlers.row` per record and `handlers.broken` per row it had to leave out. */
export async function readCsvRows(
  file: string,
  handlers: CsvRowHandlers,
  options: { trim?: boolean } = {},
): Promise<void> {
  const from: Position = { bytes: 0, lines: 0 };
  let brokenRows = 0;
  for (;;) {
    const last: Position = { ...from };
    const err = await pass(file, from, { trim: options.trim ?? false }, handlers, last);
    if (!err) return;
    // The broken row starts on the first non-empty line after the last good record.
    let line = last.lines;
    let brokenAt = 0;
    let resumeAt = 0;
    for await (const { text, end } of linesFrom(file, last.bytes)) {
      line++;
      if (text.replace(/\r$/, '') === '') continue;
      brokenAt = line;
      resumeAt = end;
      break;
    }
    if (brokenAt === 0) return; // nothing but empty lines left: the error was about nothing
    brokenRows++;
    if (brokenRows > MAX_BROKEN)
      throw new BookrecError(
        'DATA_CSV',
        `${file}: more than ${MAX_BROKEN} rows with broken quoting (the last at line ${brokenAt}): is it a CSV file?`,
      );
    // Noticed on a later line: the row's own quote ran on into the next rows (paired, say, with the next
    // row's opening quote), so those rows are read again from the next line.
    const ranOn = from.lines + (err.lines ?? 0) > brokenAt;
    handlers.broken(brokenAt, `${reasonOf(err, ranOn)} (row left out)`);
    from.bytes = resumeAt;
    from.lines = brokenAt;
  }
}
