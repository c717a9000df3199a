import { readFile, writeFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import t from 'tap';
import { nodePackageSource } from '../../common/inference/nodePackageSource.js';
import { openModel } from '../../common/inference/openModel.js';
import { type HistoryItem, rank } from '../../common/inference/ranking.js';
import { buildPages, buildStaticPhone } from '../../serve/webBuild.js';
import { startServer } from '../helpers/archiveServer.js';
import { launchChromium, recordRequests, screenshot } from '../helpers/browser.js';
import { testKey } from '../helpers/release.js';
import { fixturePackage, signPackage, startServe, testRoot } from './harness.js';

const signer = testKey();
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

t.test('the phone page: three books marked, the shared ranking shown, nothing about them sent', async (t) => {
  const dir = await fixturePackage(t);
  const { file } = await signPackage(t, dir, signer.key);
  const web = join(testRoot(t), 'web');
  await buildPages(web);
  const { url } = await startServe(t, [
    '--package',
    dir,
    '--manifest',
    file,
    '--trusted-keys',
    signer.publicKey,
    '--web-dir',
    web,
  ]);

  const browser = await launchChromium(t);
  const page = await (await browser.newContext(PHONE)).newPage();
  const requests = recordRequests(page);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${url}/phone/`);
  await page.waitForSelector('body[data-state]');
  t.equal(await page.getAttribute('body', 'data-state'), 'ready', (await page.textContent('#error')) ?? '');
  t.match(await page.textContent('#status'), /Ready: 60 books, verified/);
  const loaded = requests.length;

  for (const [i, title] of ['Book 12:', 'Book 30:', 'Book 45:'].entries()) {
    await page.fill('#search', title);
    await page.click('#results li:first-child button');
    await page.waitForSelector(`body[data-history-length="${i + 1}"]`);
  }
  await page.fill('#search', '');
  const shown = await page.$$eval('#recs li', (lis) =>
    lis.map((li) => Number(li.getAttribute('data-book-id'))),
  );
  const now = Number(await page.getAttribute('#recs', 'data-now'));
  // Read back from IndexedDB inside the page (a string: this runs in the browser, not under Node's types).
  const history = (await page.evaluate(`new Promise((resolve, reject) => {
    const open = indexedDB.open('bookrec');
    open.onsuccess = () => {
      const get = open.result.transaction('history').objectStore('history').getAll();
      get.onsuccess = () => resolve(get.result);
      get.onerror = () => reject(get.error);
    };
  })`)) as HistoryItem[];
  t.same(
    history.map((h) => h.bookId),
    [1012, 1030, 1045],
    'the three books are in IndexedDB',
  );

  const expected = rank(await openModel(nodePackageSource(dir)), history, { count: 5, now: new Date(now) });
  t.equal(expected.source, 'model');
  t.same(
    shown,
    expected.books.map((b) => b.id),
    'the page shows what the shared code ranks for that history',
  );
  t.equal(
    await page.textContent('#reason'),
    `${expected.reason[0].toUpperCase()}${expected.reason.slice(1)}:`,
    'with its reason',
  );
  t.comment(`screenshot: ${await screenshot(page, 'phone-three-books')}`);

  // Nothing about the history left the page: no request at all after loading, and none before carried a
  // body, a query or anything but the page, its settings and the signed package.
  t.equal(requests.length, loaded, 'marking books and ranking made no request');
  const paths = requests.map((r) => new URL(r.url).pathname);
  t.same([...new Set(paths)].sort(), [
    '/phone/',
    '/phone/app.js',
    '/phone/config.json',
    '/phone/style.css',
    '/v1/package/files/bookrec-package.json',
    '/v1/package/files/catalogue.json',
    '/v1/package/files/model.json',
    '/v1/package/files/weights.bin',
    '/v1/package/signed-manifest.json',
  ]);
  for (const r of requests) {
    t.equal(r.method, 'GET', `${r.url} is a GET`);
    t.equal(r.body, null, `${r.url} has no body`);
    t.equal(new URL(r.url).search, '', `${r.url} has no query`);
    t.notMatch(JSON.stringify(r.headers), /1012|1030|1045|Book 12/, `${r.url} headers carry no book`);
  }

  // After a reload the history is still there: it lives on the phone.
  await page.reload();
  await page.waitForSelector('body[data-history-length="3"]');
  t.same(errors, [], 'no page errors');
});

/** A static host for a built folder (what the page would sit on without bookrec serve). */
async function staticHost(t: Parameters<typeof fixturePackage>[0], root: string) {
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.css': 'text/css',
    '.json': 'application/json',
  };
  const server = await startServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(
      /^(\.\.[/\\])+/,
      '',
    );
    const file = join(root, path.endsWith('/') ? `${path}index.html` : path);
    readFile(file).then(
      (body) =>
        res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  t.teardown(() => server.close());
  return server;
}

t.test('a tampered package is refused in the browser with a visible message', async (t) => {
  const dir = await fixturePackage(t);
  const { file, manifest } = await signPackage(t, dir, signer.key);
  const browser = await launchChromium(t);
  const cases: [string, (phone: string) => Promise<void>, RegExp][] = [
    [
      'weights',
      async (phone) => {
        const weights = join(phone, 'package', 'files', 'weights.bin');
        const bytes = await readFile(weights);
        bytes[100] ^= 0xff;
        await writeFile(weights, bytes);
      },
      /Refused: weights\.bin is not the file the release key signed .*\[FILE_SHA256\]/,
    ],
    [
      'manifest',
      async (phone) => {
        await writeFile(
          join(phone, 'package', 'signed-manifest.json'),
          JSON.stringify({ ...manifest, version: 9 }),
        );
      },
      /Refused: manifest signature does not match its content .*\[MANIFEST_SIGNATURE\]/,
    ],
    [
      'key',
      async (phone) => {
        await writeFile(
          join(phone, 'config.json'),
          JSON.stringify({ trustedKeys: [testKey().publicKey], packageBase: 'package/' }),
        );
      },
      /Refused: manifest signed by key [0-9a-f]{16}, which this page does not trust .*\[MANIFEST_UNKNOWN_KEY\]/,
    ],
  ];
  for (const [name, tamper, message] of cases) {
    const out = join(testRoot(t), `static-${name}`);
    await buildStaticPhone(out, { packageDir: dir, manifestFile: file, trustedKeys: [signer.publicKey] });
    await tamper(join(out, 'phone'));
    const host = await staticHost(t, out);
    const page = await (await browser.newContext(PHONE)).newPage();
    await page.goto(`${host.url}/phone/`);
    await page.waitForSelector('body[data-state="refused"]');
    t.ok(await page.isVisible('#error'), `${name}: the message is visible`);
    t.match(await page.textContent('#error'), message, `${name}: it names the problem`);
    t.equal(await page.$$eval('#recs li', (l) => l.length), 0, `${name}: no recommendation`);
    t.ok(await page.isDisabled('#search'), `${name}: nothing to search`);
    t.comment(`screenshot: ${await screenshot(page, `phone-refused-${name}`)}`);
  }

  // A correctly signed release of a model the page's JS engine cannot run: refused, saying so.
  const dense = await fixturePackage(t, 'dense', 5, 8);
  const denseSigned = await signPackage(t, dense, signer.key);
  const denseOut = join(testRoot(t), 'static-dense');
  await buildStaticPhone(denseOut, {
    packageDir: dense,
    manifestFile: denseSigned.file,
    trustedKeys: [signer.publicKey],
  });
  const densePage = await (await browser.newContext(PHONE)).newPage();
  await densePage.goto(`${(await staticHost(t, denseOut)).url}/phone/`);
  await densePage.waitForSelector('body[data-state="refused"]');
  t.match(
    await densePage.textContent('#error'),
    /release 1 holds a model this page cannot run: the phone runs the sparse student only \[PACKAGE_UNSUPPORTED\]/,
  );

  // The same static build untouched works: the refusals came from the tampering.
  const good = join(testRoot(t), 'static-good');
  await buildStaticPhone(good, { packageDir: dir, manifestFile: file, trustedKeys: [signer.publicKey] });
  const page = await (await browser.newContext(PHONE)).newPage();
  await page.goto(`${(await staticHost(t, good)).url}/phone/`);
  await page.waitForSelector('body[data-state="ready"]');
  t.equal(await page.$$eval('#recs li', (l) => l.length), 2, 'the fallback list for an empty history');
});
