import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ensureData } from '../../demo/data.js';
import { freePort } from '../../deploy/mosquittoProcess.js';
import { buildZip, sendBody, startServer } from '../helpers/archiveServer.js';
import { testContext } from '../helpers/cliContext.js';

/**
 * Item 7 of issue 13: on a machine with no data, the demo's first step fetches goodbooks-10k itself
 * (a local HTTP server stands in for the download), and says what to do when it cannot.
 */
const DATA = {
  'ratings.csv': 'user_id,book_id,rating\n1,1,5\n1,2,4\n2,2,3\n',
  'to_read.csv': 'user_id,book_id\n2,1\n',
  'books.csv': 'book_id,authors,title\n1,A,One\n2,B,Two\n',
};
const DEFAULT = 'data/goodbooks-10k';

t.test('no data folder given and none there: fetched with progress and checksum, then used', async (t) => {
  const zip = await buildZip(
    Object.fromEntries(Object.entries(DATA).map(([n, text]) => [`goodbooks-10k/${n}`, text])),
  );
  const server = await startServer((req, res) => sendBody(req, res, zip, { ranges: true }));
  t.teardown(server.close);
  const cwd = process.cwd();
  process.chdir(t.testdir());
  t.teardown(() => process.chdir(cwd));
  const { ctx, out, log } = testContext({ BOOKREC_DATA_URL: `${server.url}/goodbooks-10k.zip` });
  const dir = await ensureData({ dataDir: DEFAULT }, ctx);
  t.equal(dir, join(process.cwd(), DEFAULT));
  t.equal(readFileSync(join(dir, 'books.csv'), 'utf8'), DATA['books.csv']);
  t.match(out[0], /^no goodbooks-10k data at .*data\/goodbooks-10k: fetching it/);
  t.match(
    out.join('\n'),
    /^sha256 [0-9a-f]{64} {2}http:\/\/127\.0\.0\.1:\d+\/goodbooks-10k\.zip {2}\d+ bytes$/m,
  );
  t.match(out.join('\n'), /placed 3 files in /);
  t.ok(
    log.lines.some((l) => /^download: done/.test(String(l.msg))),
    'the progress of the download',
  );
  const again = testContext({ BOOKREC_DATA_URL: `${server.url}/goodbooks-10k.zip` });
  await ensureData({ dataDir: DEFAULT }, again.ctx);
  t.equal(server.requests.length, 1, 'the second run finds the data: no download');
});

t.test('offline: DATA_MISSING saying why and what to do; a given folder is never fetched into', async (t) => {
  const cwd = process.cwd();
  process.chdir(t.testdir());
  t.teardown(() => process.chdir(cwd));
  const port = await freePort();
  const { ctx } = testContext({ BOOKREC_DATA_URL: `http://127.0.0.1:${port}/goodbooks-10k.zip`, CI: 'true' });
  await t.rejects(ensureData({ dataDir: DEFAULT }, ctx), {
    code: 'DATA_MISSING',
    message:
      /127\.0\.0\.1.*bookrec data fetch --from DIR.*the goodbooks-10k data is not at .* BOOKREC_DATA_DIR/s,
  });
  t.notOk(existsSync(join(process.cwd(), DEFAULT, 'ratings.csv')));
  const given = testContext({ BOOKREC_DATA_URL: `http://127.0.0.1:${port}/x.zip` });
  await t.rejects(ensureData({ dataDir: 'elsewhere/gb' }, given.ctx), {
    code: 'DATA_MISSING',
    message: /elsewhere\/gb/,
  });
  t.same(given.out, [], 'nothing fetched for a folder that was given');
});
