import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { main } from '../../../cli/bookrec.js';
import { loadReadingData } from '../../../trainer/data/goodbooks.js';
import { buildZip, sendBody, startServer } from '../../helpers/archiveServer.js';
import { testContext } from '../../helpers/cliContext.js';

const DATA = {
  'ratings.csv': 'user_id,book_id,rating\n1,1,5\n1,2,4\n2,2,3\n',
  'to_read.csv': 'user_id,book_id\n2,1\n',
  'books.csv': 'book_id,authors,title\n1,A,"One, ""the"" first"\n2,B,Two\n',
};
const OLD = { 'ratings.csv': 'book_id,user_id,rating\n9,9,1\n' };

/** The release archive as published: the CSVs inside a folder, with something else beside them. */
const releaseZip = () =>
  buildZip({
    ...Object.fromEntries(Object.entries(DATA).map(([name, text]) => [`goodbooks-10k/${name}`, text])),
    'goodbooks-10k/notes.txt': 'not data',
  });

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A parent folder holding an old data set at `gb`, as a user who fetches again would have. */
function workspace(t: Test) {
  const dir = t.testdir({ gb: OLD });
  return { dir, target: join(dir, 'gb'), part: join(dir, 'gb.zip.part') };
}

/** Nothing but the target (and no staging or .old folder) is left beside it. */
const leftovers = (dir: string) => readdirSync(dir).filter((n) => n !== 'gb');

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const c = testContext(env);
  const code = await main(['data', 'fetch', ...args], c.ctx);
  return { code, out: c.out.join('\n'), err: c.err.join('\n') };
}

t.test('bookrec lists data fetch; its help shows the settings', async (t) => {
  const a = testContext();
  t.equal(await main(['--help'], a.ctx), 0);
  t.match(a.out.join('\n'), /^ {2}data fetch {2}/m);
  const help = await run(['--help']);
  t.equal(help.code, 0);
  t.match(help.out, /--from.*--sha256|--sha256[\s\S]*--from/);
  t.notMatch(help.out, /--models|--seed/, "only data fetch's own settings");
});

t.test('a good archive: sha256 printed, CSVs placed over the old data, nothing left behind', async (t) => {
  const zip = await releaseZip();
  const server = await startServer((req, res) => sendBody(req, res, zip, { ranges: true }));
  t.teardown(server.close);
  const { dir, target } = workspace(t);
  const r = await run([
    '--data',
    target,
    '--url',
    `${server.url}/goodbooks-10k.zip`,
    '--sha256',
    sha256(zip),
  ]);
  t.equal(r.code, 0, r.err);
  t.match(r.out, `sha256 ${sha256(zip)}  ${server.url}/goodbooks-10k.zip  ${zip.length} bytes`);
  t.match(r.out, /placed 3 files/);
  t.same(readdirSync(target).sort(), ['books.csv', 'ratings.csv', 'to_read.csv']);
  t.same(leftovers(dir), [], 'no .part, staging or old folder');
  const data = await loadReadingData(target, { toRead: true, catalogue: true });
  t.equal(data.catalogue?.byId.get(1)?.title, 'One, "the" first');
  t.equal(data.reads.userIds.length, 2);
});

t.test('without --sha256 the checksum is still printed', async (t) => {
  const zip = await releaseZip();
  const server = await startServer((req, res) => sendBody(req, res, zip));
  t.teardown(server.close);
  const { target } = workspace(t);
  const r = await run(['--data', target], { BOOKREC_DATA_URL: `${server.url}/z.zip` });
  t.equal(r.code, 0, r.err);
  t.match(r.out, `sha256 ${sha256(zip)}`);
});

t.test('a checksum mismatch places nothing and discards the download', async (t) => {
  const zip = await releaseZip();
  const server = await startServer((req, res) => sendBody(req, res, zip));
  t.teardown(server.close);
  const { dir, target } = workspace(t);
  const r = await run(['--data', target, '--url', `${server.url}/z.zip`, '--sha256', 'ab'.repeat(32)]);
  t.equal(r.code, 1);
  t.match(r.out, `sha256 ${sha256(zip)}`);
  t.match(
    r.err,
    /sha256 [0-9a-f]{64} differs from the expected (ab){32}; download discarded.*\[CHECKSUM_MISMATCH\]$/,
  );
  t.same(readFileSync(join(target, 'ratings.csv'), 'utf8'), OLD['ratings.csv'], 'old data intact');
  t.same(leftovers(dir), []);
  const bad = await run(['--data', target, '--url', `${server.url}/z.zip`, '--sha256', 'xyz']);
  t.equal(bad.code, 2);
  t.match(bad.err, /--sha256 "xyz" is not 64 hex digits/);
});

t.test('a corrupt archive, or one without ratings.csv, places nothing', async (t) => {
  const notZip = Buffer.from('<html>rate limited</html>');
  const noRatings = await buildZip({ 'books.csv': DATA['books.csv'] });
  const server = await startServer((req, res) =>
    sendBody(req, res, req.url === '/html' ? notZip : noRatings),
  );
  t.teardown(server.close);
  const { dir, target } = workspace(t);
  const corrupt = await run(['--data', target, '--url', `${server.url}/html`]);
  t.equal(corrupt.code, 1);
  t.match(corrupt.err, /not a valid zip archive.*\[ARCHIVE_CORRUPT\]/);
  t.match(corrupt.out, `sha256 ${sha256(notZip)}`, 'what arrived is still reported');
  const incomplete = await run(['--data', target, '--url', `${server.url}/zip`]);
  t.equal(incomplete.code, 1);
  t.match(incomplete.err, /archive http.* has no ratings\.csv \[DATA_INCOMPLETE\]/);
  t.same(readdirSync(target), ['ratings.csv']);
  t.same(readFileSync(join(target, 'ratings.csv'), 'utf8'), OLD['ratings.csv']);
  t.same(leftovers(dir), [], 'the bad download is not kept for a resume');
});

t.test('an interrupted download fails with a resume hint; the next run resumes with Range', async (t) => {
  const zip = Buffer.concat([await releaseZip()]);
  // Three cuts: the first run's attempt and its two retries; the second run gets the rest.
  const server = await startServer((req, res, n) =>
    sendBody(req, res, zip, { ranges: true, etag: '"r1"', cutAfter: n < 3 ? 100 : undefined }),
  );
  t.teardown(server.close);
  const { dir, target, part } = workspace(t);
  const url = `${server.url}/z.zip`;
  const first = await run(['--data', target, '--url', url]);
  t.equal(first.code, 1);
  t.match(
    first.err,
    /download interrupted after 300 of \d+ bytes .*run the command again to resume \[DOWNLOAD_INTERRUPTED\]/,
  );
  t.equal(statSync(part).size, 300, 'the .part keeps what arrived');
  t.same(readFileSync(join(target, 'ratings.csv'), 'utf8'), OLD['ratings.csv']);

  const second = await run(['--data', target, '--url', url, '--sha256', sha256(zip)]);
  t.equal(second.code, 0, second.err);
  t.equal(server.requests[3].range, 'bytes=300-');
  t.match(second.out, /\(resumed at byte 300\)/);
  t.same(readdirSync(target).sort(), ['books.csv', 'ratings.csv', 'to_read.csv']);
  t.same(leftovers(dir), []);
});

t.test('offline (connection refused) fails fast, saying how to use a local copy', async (t) => {
  const server = await startServer(() => {});
  await server.close();
  const { target } = workspace(t);
  const started = Date.now();
  const r = await run(['--data', target, '--url', `${server.url}/z.zip`, '--timeout', '5']);
  t.equal(r.code, 1);
  t.ok(Date.now() - started < 2000, 'no waiting for the timeout');
  t.equal(r.err.split('\n').length, 1, 'one line');
  t.match(
    r.err,
    /cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\); offline\? .*--from DIR.*--data DIR \(BOOKREC_DATA_DIR\).*\[OFFLINE\]$/,
  );
});

t.test('--from DIR imports a local copy atomically, writable, CSVs only', async (t) => {
  const dir = t.testdir({ gb: OLD, copy: { ...DATA, LICENSE: 'CC BY-SA 4.0', 'extra.csv': 'a\n' } });
  const target = join(dir, 'gb');
  chmodSync(join(dir, 'copy', 'ratings.csv'), 0o444);
  const r = await run(['--data', target, '--from', join(dir, 'copy')]);
  t.equal(r.code, 0, r.err);
  t.match(
    r.out,
    /imported 4 files from .*copy into .*gb: books\.csv, extra\.csv, ratings\.csv, to_read\.csv/,
  );
  t.same(readFileSync(join(target, 'ratings.csv'), 'utf8'), DATA['ratings.csv']);
  t.equal(statSync(join(target, 'ratings.csv')).mode & 0o777, 0o644);
  t.equal(statSync(target).mode & 0o777, 0o755, 'an ordinary folder, not private like a temp one');
  t.same(readdirSync(dir).sort(), ['copy', 'gb']);
});

t.test('--from refuses a folder that is not a data set, and the data folder itself', async (t) => {
  const dir = t.testdir({ gb: OLD, empty: {}, wrong: { 'ratings.csv': 'a,b\n1,2\n' } });
  const target = join(dir, 'gb');
  const empty = await run(['--data', target, '--from', join(dir, 'empty')]);
  t.match(empty.err, /empty has no ratings\.csv \[DATA_INCOMPLETE\]/);
  const wrong = await run(['--data', target, '--from', join(dir, 'wrong')]);
  t.match(wrong.err, /ratings\.csv:1: header "a,b" is not a ratings header \[DATA_INCOMPLETE\]/);
  const self = await run(['--data', target, '--from', target]);
  t.equal(self.code, 2);
  t.match(self.err, /is the data folder itself/);
  t.same(readFileSync(join(target, 'ratings.csv'), 'utf8'), OLD['ratings.csv']);
});

t.test('a data folder holding other files, or a file, is never replaced', async (t) => {
  const dir = t.testdir({ home: { '.bashrc': 'x', 'ratings.csv': 'old' }, file: 'x', copy: DATA });
  const home = await run(['--data', join(dir, 'home'), '--from', join(dir, 'copy')]);
  t.equal(home.code, 1);
  t.match(home.err, /holds files that are not part of the data set \(\.bashrc\); refusing .*\[DATA_TARGET\]/);
  t.ok(existsSync(join(dir, 'home', '.bashrc')));
  const file = await run(['--data', join(dir, 'file'), '--from', join(dir, 'copy')]);
  t.match(file.err, /exists and is not a folder.*\[DATA_TARGET\]/);
  t.same(readdirSync(dir).sort(), ['copy', 'file', 'home']);
});

t.test('a new data folder (and its parent) is created', async (t) => {
  const dir = t.testdir({ copy: DATA });
  const target = join(dir, 'data', 'goodbooks-10k');
  const r = await run(['--data', target, '--from', join(dir, 'copy')]);
  t.equal(r.code, 0, r.err);
  t.same(readdirSync(target).sort(), ['books.csv', 'ratings.csv', 'to_read.csv']);
});
