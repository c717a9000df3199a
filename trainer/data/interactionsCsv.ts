import { BookrecError } from '../../common/errors.js';
import { findColumn, headerColumns, type Line, readLineBatches } from './csvLines.js';
import { buildCsr, denseIds, Int32Builder, type Interactions } from './interactions.js';

/**
 * Reads an interactions CSV by header name, so that goodbooks v1 (book_id,user_id,rating), goodbooks v2
 * (user_id,book_id,rating) and generic files (user,item[,rating][,timestamp]) all load.
 *
 * Policy for bad input (documented in docs/data.md):
 * - empty file, or a header without a user or item column: an error naming the file (and line 1);
 * - a row with too few fields, a non-integer or negative id, or a non-numeric rating (when the file has
 *   a rating column): skipped, counted, and the first few named by line in the summary;
 * - a file with no valid row at all: an error.
 */
export const USER_COLUMNS = ['user_id', 'user', 'userid', 'user id'] as const;
export const ITEM_COLUMNS = ['book_id', 'item_id', 'item', 'itemid', 'book', 'movie_id', 'movieid'] as const;
export const RATING_COLUMNS = ['rating', 'score', 'value'] as const;

const EXAMPLES_KEPT = 5;

export interface LoadSummary {
  file: string;
  rows: number;
  kept: number;
  duplicates: number;
  skipped: number;
  /** The first skipped rows, as "file:line: reason". */
  skippedExamples: string[];
  users: number;
  items: number;
}

/** Raw (file id) pairs, before they are made dense: lets to_read share the ratings' id maps. */
export interface RawPairs {
  users: Int32Array;
  items: Int32Array;
  summary: Omit<LoadSummary, 'duplicates' | 'users' | 'items'>;
}

const INTEGER = /^\s*\d+\s*$/;

export async function readPairs(file: string): Promise<RawPairs> {
  const users = new Int32Builder();
  const items = new Int32Builder();
  let userCol = -1;
  let itemCol = -1;
  let ratingCol = -1;
  let width = 0;
  let rows = 0;
  let skipped = 0;
  const examples: string[] = [];
  const skip = (lineNo: number, reason: string) => {
    skipped++;
    if (examples.length < EXAMPLES_KEPT) examples.push(`${file}:${lineNo}: ${reason}`);
  };

  const each = (batch: Line[]): void => {
    for (const { line, lineNo, unterminated } of batch) {
      if (lineNo === 1) {
        const columns = headerColumns(line);
        userCol = findColumn(columns, USER_COLUMNS);
        itemCol = findColumn(columns, ITEM_COLUMNS);
        ratingCol = findColumn(columns, RATING_COLUMNS);
        if (userCol < 0 || itemCol < 0) {
          const missing =
            userCol < 0
              ? `a user column (${USER_COLUMNS.join('|')})`
              : `an item column (${ITEM_COLUMNS.join('|')})`;
          throw new BookrecError('DATA_HEADER', `${file}:1: header "${line.slice(0, 80)}" has no ${missing}`);
        }
        width = Math.max(userCol, itemCol, ratingCol) + 1;
        continue;
      }
      if (line.length === 0) continue;
      rows++;
      const fields = line.split(',');
      if (fields.length < width) {
        skip(
          lineNo,
          unterminated ? 'truncated last line' : `expected ${width} fields, found ${fields.length}`,
        );
        continue;
      }
      const u = fields[userCol];
      const i = fields[itemCol];
      if (!INTEGER.test(u) || !INTEGER.test(i)) {
        skip(lineNo, `id is not a non-negative integer (user "${u}", item "${i}")`);
        continue;
      }
      if (ratingCol >= 0 && !Number.isFinite(Number.parseFloat(fields[ratingCol]))) {
        skip(lineNo, `rating "${fields[ratingCol]}" is not a number`);
        continue;
      }
      const uid = Number(u);
      const iid = Number(i);
      if (uid > 0x7fffffff || iid > 0x7fffffff) {
        skip(lineNo, 'id does not fit in 31 bits');
        continue;
      }
      users.push(uid);
      items.push(iid);
    }
  };
  for await (const batch of readLineBatches(file)) each(batch);
  if (userCol < 0) throw new BookrecError('DATA_EMPTY', `${file}: file is empty (no header line)`);
  if (users.length === 0) {
    const why = examples.length > 0 ? ` (first problem: ${examples[0]})` : '';
    throw new BookrecError('DATA_EMPTY', `${file}: no valid interaction rows${why}`);
  }
  return {
    users: users.view(),
    items: items.view(),
    summary: { file, rows, kept: users.length, skipped, skippedExamples: examples },
  };
}

/**
 * Makes a CSR from raw pairs. With `idMaps`, ids are looked up there (pairs with unknown ids are
 * dropped and counted as skipped): this aligns to_read with the ratings' users and items.
 */
export function pairsToInteractions(
  raw: RawPairs,
  idMaps?: { userIds: Int32Array; itemIds: Int32Array },
): { interactions: Interactions; summary: LoadSummary } {
  const users = idMaps ? indexOf(idMaps.userIds) : denseIds(raw.users);
  const items = idMaps ? indexOf(idMaps.itemIds) : denseIds(raw.items);
  const du = new Int32Array(raw.users.length);
  const di = new Int32Array(raw.items.length);
  let n = 0;
  for (let k = 0; k < raw.users.length; k++) {
    const u = users.index.get(raw.users[k]);
    const i = items.index.get(raw.items[k]);
    if (u === undefined || i === undefined) continue;
    du[n] = u;
    di[n] = i;
    n++;
  }
  const { indptr, indices, duplicates } = buildCsr(du.subarray(0, n), di.subarray(0, n), users.ids.length);
  const interactions: Interactions = { userIds: users.ids, itemIds: items.ids, indptr, indices };
  const unknown = raw.users.length - n;
  return {
    interactions,
    summary: {
      ...raw.summary,
      kept: indices.length,
      skipped: raw.summary.skipped + unknown,
      duplicates,
      users: users.ids.length,
      items: items.ids.length,
    },
  };
}

function indexOf(ids: Int32Array): { ids: Int32Array; index: Map<number, number> } {
  const index = new Map<number, number>();
  for (let k = 0; k < ids.length; k++) index.set(ids[k], k);
  return { ids, index };
}

export async function loadInteractionsCsv(
  file: string,
): Promise<{ interactions: Interactions; summary: LoadSummary }> {
  return pairsToInteractions(await readPairs(file));
}
