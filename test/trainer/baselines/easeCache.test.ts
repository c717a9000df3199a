import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createMemoryLogger } from '../../../common/log.js';
import { fitEase } from '../../../trainer/baselines/ease.js';
import {
  easeCacheKey,
  easeCachePaths,
  readEaseCache,
  writeEaseCache,
} from '../../../trainer/baselines/easeCache.js';
import { interactionsFromRows, randomRows } from '../../helpers/matrices.js';

const rows = randomRows(40, 12, 0.3, 5);
const data = interactionsFromRows(rows, 12);
const train = Int32Array.from({ length: 30 }, (_, u) => u);
const warnings = (log: ReturnType<typeof createMemoryLogger>) =>
  log.lines.filter((l) => l.level === 'warn').map((l) => String(l.msg));

t.test('the key changes with lambda, the training users and their reads', async (t) => {
  const key = easeCacheKey(data, train, 10);
  t.match(key, /^[0-9a-f]{64}$/);
  t.equal(easeCacheKey(data, Int32Array.from(train), 10), key, 'same inputs, same key');
  t.not(easeCacheKey(data, train, 11), key);
  t.not(easeCacheKey(data, train.subarray(1), 10), key);
  const edited = rows.map((r) => [...r]);
  edited[3] = edited[3].length > 0 ? edited[3].slice(1) : [0];
  t.not(easeCacheKey(interactionsFromRows(edited, 12), train, 10), key);
  t.equal(easeCacheKey(data, train, 10), easeCacheKey(interactionsFromRows(rows, 12), train, 10));
});

t.test('a second fit reads the cache and gets the same weights', async (t) => {
  const dir = t.testdir({});
  const log = createMemoryLogger();
  const first = await fitEase(data, train, { lambda: 10, solver: 'js', cacheDir: dir, log });
  t.equal(first.source, 'js');
  t.same(readdirSync(dir).sort().length, 2, 'a header and a data file');
  const second = await fitEase(data, train, { lambda: 10, cacheDir: dir, log });
  t.equal(second.source, 'cache');
  t.same(Array.from(second.weights), Array.from(first.weights));
  const other = await fitEase(data, train, { lambda: 20, solver: 'js', cacheDir: dir, log });
  t.equal(other.source, 'js', 'another lambda is another entry');
  t.same(warnings(log), []);
});

t.test('a corrupt, truncated or mismatched cache is refitted and logged', async (t) => {
  const dir = t.testdir({});
  const key = easeCacheKey(data, train, 10);
  const paths = easeCachePaths(dir, key);
  const fit = async () => {
    const log = createMemoryLogger();
    const model = await fitEase(data, train, { lambda: 10, solver: 'js', cacheDir: dir, log });
    return { source: model.source, warnings: warnings(log) };
  };
  await fit();

  const bytes = readFileSync(paths.data);
  bytes[17] ^= 0xff;
  writeFileSync(paths.data, bytes);
  t.same(await fit(), { source: 'js', warnings: ['EASE cache checksum mismatch, refitting'] });
  t.same((await fit()).source, 'cache', 'the refit rewrote a good entry');

  writeFileSync(paths.data, bytes.subarray(0, 100));
  t.same(await fit(), { source: 'js', warnings: ['unreadable EASE cache data, refitting'] });

  const header = JSON.parse(readFileSync(paths.header, 'utf8'));
  writeFileSync(paths.header, JSON.stringify({ ...header, n: 13 }));
  t.same(await fit(), { source: 'js', warnings: ['EASE cache header does not match, refitting'] });

  writeFileSync(paths.header, '{ not json');
  t.same(await fit(), { source: 'js', warnings: ['unreadable EASE cache header, refitting'] });
});

t.test('a missing entry is a quiet miss; an unwritable cache folder only warns', async (t) => {
  const dir = t.testdir({ 'not-a-dir': 'x' });
  t.equal(await readEaseCache(dir, 'ab'.repeat(32), 12), undefined);
  const log = createMemoryLogger();
  const model = await fitEase(data, train, {
    lambda: 10,
    solver: 'js',
    cacheDir: join(dir, 'not-a-dir'),
    log,
  });
  t.equal(model.source, 'js');
  t.same(warnings(log), ['unreadable EASE cache header, refitting', 'could not cache EASE weights']);
});

t.test('the header describes the data file', async (t) => {
  const dir = t.testdir({});
  const weights = Float32Array.from({ length: 9 }, (_, i) => i / 4);
  const file = await writeEaseCache(dir, 'cd'.repeat(32), 3, 7, weights, () => new Date(0));
  t.equal(readFileSync(file).length, 36);
  const header = JSON.parse(readFileSync(easeCachePaths(dir, 'cd'.repeat(32)).header, 'utf8'));
  t.match(header, { format: 'bookrec-ease-weights', version: 1, n: 3, lambda: 7, bytes: 36 });
  t.equal(header.createdAt, '1970-01-01T00:00:00.000Z');
  t.same(Array.from((await readEaseCache(dir, 'cd'.repeat(32), 3)) ?? []), Array.from(weights));
});
