import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { extractCsvFiles, safeEntryName } from '../../../trainer/data/unzip.js';
import { buildZip } from '../../helpers/archiveServer.js';

/** Replaces every occurrence of one entry name by another of the same length (header and directory). */
function renameEntry(zip: Buffer, from: string, to: string): Buffer {
  if (from.length !== to.length) throw new Error('names must have the same length');
  const out = Buffer.from(zip);
  for (let at = out.indexOf(from); at >= 0; at = out.indexOf(from, at + 1)) out.write(to, at, 'latin1');
  return out;
}

t.test('extracts the CSVs flat; the shallowest of equal names wins; other files are left', async (t) => {
  const dir = t.testdir({ out: {} });
  const archive = join(dir, 'a.zip');
  writeFileSync(
    archive,
    await buildZip({
      'goodbooks-10k/ratings.csv': 'user_id,book_id,rating\n1,2,3\n',
      'goodbooks-10k/samples/ratings.csv': 'sample\n',
      'goodbooks-10k/BOOKS.CSV': 'book_id,title,authors\n',
      'goodbooks-10k/README.md': '# readme\n',
      '__MACOSX/goodbooks-10k/._ratings.csv': 'resource fork',
      'goodbooks-10k/._to_read.csv': 'resource fork',
    }),
  );
  const files = await extractCsvFiles(archive, join(dir, 'out'));
  t.same(files.map((f) => f.name).sort(), ['BOOKS.CSV', 'ratings.csv']);
  t.same(readdirSync(join(dir, 'out')).sort(), ['BOOKS.CSV', 'ratings.csv']);
  t.equal(readFileSync(join(dir, 'out', 'ratings.csv'), 'utf8'), 'user_id,book_id,rating\n1,2,3\n');
  t.equal(files.find((f) => f.name === 'ratings.csv')?.bytes, 29);
});

t.test('an entry that climbs out with .. rejects the archive; nothing is written outside', async (t) => {
  const dir = t.testdir({ out: {} });
  const archive = join(dir, 'evil.zip');
  const zip = await buildZip({ 'ok.csv': 'a\n', 'xx/evil.csv': 'pwned\n' });
  writeFileSync(archive, renameEntry(zip, 'xx/evil.csv', '../evil.csv'));
  await t.rejects(extractCsvFiles(archive, join(dir, 'out')), {
    code: 'ARCHIVE_UNSAFE',
    message: /invalid relative path: \.\.\/evil\.csv; refused/,
  });
  t.notOk(existsSync(join(dir, 'evil.csv')));
  const abs = join(dir, 'abs.zip');
  writeFileSync(abs, renameEntry(await buildZip({ 'x/tmp/p.csv': 'p\n' }), 'x/tmp/p.csv', '//tmp/p.csv'));
  await t.rejects(extractCsvFiles(abs, join(dir, 'out')), {
    code: 'ARCHIVE_UNSAFE',
    message: /absolute path/,
  });
});

t.test('safeEntryName refuses absolute, drive-letter and climbing names, in either slash', async (t) => {
  for (const bad of ['/etc/x.csv', 'C:/x.csv', 'a/../../x.csv', 'a\\..\\..\\x.csv', 'nul\0.csv']) {
    t.throws(() => safeEntryName('a.zip', bad), { code: 'ARCHIVE_UNSAFE' }, JSON.stringify(bad));
  }
  t.equal(safeEntryName('a.zip', 'dir/./x.csv'), 'dir/x.csv');
  t.equal(safeEntryName('a.zip', 'dir\\x.csv'), 'dir/x.csv');
});

t.test('damaged archives are ARCHIVE_CORRUPT', async (t) => {
  const dir = t.testdir({ out: {}, 'text.zip': 'this is not a zip file at all, just text' });
  await t.rejects(extractCsvFiles(join(dir, 'text.zip'), join(dir, 'out')), {
    code: 'ARCHIVE_CORRUPT',
    message: /text\.zip: not a valid zip archive/,
  });

  const good = await buildZip({ 'ratings.csv': 'user,item\n'.repeat(200) });
  writeFileSync(join(dir, 'half.zip'), good.subarray(0, good.length >> 1));
  await t.rejects(extractCsvFiles(join(dir, 'half.zip'), join(dir, 'out')), { code: 'ARCHIVE_CORRUPT' });

  // Stored (not deflated) content, one byte changed: only the CRC can tell.
  const stored = await buildZip({ 'ratings.csv': 'user_id,book_id\n1,2\n' }, false);
  const flipped = Buffer.from(stored);
  flipped[flipped.indexOf('1,2')] = '7'.charCodeAt(0);
  writeFileSync(join(dir, 'crc.zip'), flipped);
  await t.rejects(extractCsvFiles(join(dir, 'crc.zip'), join(dir, 'out')), {
    code: 'ARCHIVE_CORRUPT',
    message: /entry "ratings\.csv": CRC-32 mismatch/,
  });

  // Deflated content with garbage in the middle: the inflater fails.
  const deflated = await buildZip({ 'ratings.csv': 'user_id,book_id\n'.repeat(500) });
  const garbled = Buffer.from(deflated);
  garbled.fill(0xff, 40, 60);
  writeFileSync(join(dir, 'inflate.zip'), garbled);
  await t.rejects(extractCsvFiles(join(dir, 'inflate.zip'), join(dir, 'out2')), {
    code: 'ARCHIVE_CORRUPT',
    message: /entry "ratings\.csv"/,
  });
});

t.test('an entry larger than the cap is refused before it is unpacked', async (t) => {
  const dir = t.testdir({ out: {} });
  writeFileSync(join(dir, 'big.zip'), await buildZip({ 'ratings.csv': 'x'.repeat(5000) }));
  await t.rejects(extractCsvFiles(join(dir, 'big.zip'), join(dir, 'out'), { maxEntryBytes: 1000 }), {
    code: 'ARCHIVE_UNSAFE',
    message: /would unpack to 5000 bytes \(limit 1000\)/,
  });
  t.same(readdirSync(join(dir, 'out')), []);
});
