import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { download, parseContentRange } from '../../../trainer/data/download.js';
import { sendBody, startServer } from '../../helpers/archiveServer.js';

const BODY = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7) % 251));
const SHA = createHash('sha256').update(BODY).digest('hex');
const base = { timeoutMs: 2000, retries: 0 };

t.test('a plain download: bytes, sha256, progress up to the announced size', async (t) => {
  const server = await startServer((req, res) => sendBody(req, res, BODY, { ranges: true, etag: '"v1"' }));
  t.teardown(server.close);
  const part = join(t.testdir({}), 'a.zip.part');
  const seen: [number, number | undefined][] = [];
  const got = await download({
    ...base,
    url: `${server.url}/a.zip`,
    partFile: part,
    onProgress: (r, n) => seen.push([r, n]),
  });
  t.match(got, { file: part, bytes: BODY.length, sha256: SHA, resumedFrom: 0, interruptions: 0 });
  t.same(seen.at(-1), [BODY.length, BODY.length]);
  t.same(JSON.parse(readFileSync(`${part}.json`, 'utf8')), { url: `${server.url}/a.zip`, validator: '"v1"' });
  t.equal(server.requests[0].range, undefined, 'no Range on a fresh start');
});

t.test('a cut connection keeps the .part; the next run resumes with Range and If-Range', async (t) => {
  const server = await startServer((req, res, n) =>
    sendBody(req, res, BODY, { ranges: true, etag: '"v1"', cutAfter: n === 0 ? 20_000 : undefined }),
  );
  t.teardown(server.close);
  const part = join(t.testdir({}), 'a.zip.part');
  const url = `${server.url}/a.zip`;
  await t.rejects(download({ ...base, url, partFile: part }), {
    code: 'DOWNLOAD_INTERRUPTED',
    message: new RegExp(
      `^${url}: download interrupted after 20000 of 50000 bytes .*run the command again to resume$`,
    ),
  });
  t.equal(statSync(part).size, 20_000, 'what arrived is kept');
  const got = await download({ ...base, url, partFile: part });
  t.same(server.requests[1], { path: '/a.zip', range: 'bytes=20000-', ifRange: '"v1"' });
  t.match(got, { bytes: BODY.length, sha256: SHA, resumedFrom: 20_000 });
});

t.test('within one run, an interruption is retried from where it stopped', async (t) => {
  const server = await startServer((req, res, n) =>
    sendBody(req, res, BODY, { ranges: true, cutAfter: n < 2 ? 10_000 : undefined }),
  );
  t.teardown(server.close);
  const part = join(t.testdir({}), 'a.zip.part');
  const got = await download({ ...base, retries: 2, url: `${server.url}/a.zip`, partFile: part });
  t.match(got, { sha256: SHA, interruptions: 2, resumedFrom: 20_000 });
  t.same(
    server.requests.map((r) => r.range),
    [undefined, 'bytes=10000-', 'bytes=20000-'],
  );
});

t.test(
  'a server without range support sends it all again: the .part is rewritten, not appended',
  async (t) => {
    const server = await startServer((req, res, n) =>
      sendBody(req, res, BODY, { ranges: false, cutAfter: n === 0 ? 30_000 : undefined }),
    );
    t.teardown(server.close);
    const part = join(t.testdir({}), 'a.zip.part');
    const url = `${server.url}/a.zip`;
    await t.rejects(download({ ...base, url, partFile: part }), { code: 'DOWNLOAD_INTERRUPTED' });
    const got = await download({ ...base, url, partFile: part });
    t.equal(server.requests[1].range, 'bytes=30000-', 'a resume was asked for');
    t.match(got, { bytes: BODY.length, sha256: SHA, resumedFrom: 0 });
  },
);

t.test('a file changed on the server (If-Range fails) is downloaded whole', async (t) => {
  const next = Buffer.from(BODY).fill(1, 0, 100);
  const server = await startServer((req, res, n) =>
    n === 0
      ? sendBody(req, res, BODY, { ranges: true, etag: '"old"', cutAfter: 5000 })
      : sendBody(req, res, next, { ranges: true, etag: '"new"' }),
  );
  t.teardown(server.close);
  const part = join(t.testdir({}), 'a.zip.part');
  const url = `${server.url}/a.zip`;
  await t.rejects(download({ ...base, url, partFile: part }), { code: 'DOWNLOAD_INTERRUPTED' });
  const got = await download({ ...base, url, partFile: part });
  t.equal(server.requests[1].ifRange, '"old"');
  t.equal(got.sha256, createHash('sha256').update(next).digest('hex'));
});

t.test('a .part from another URL is not resumed', async (t) => {
  const server = await startServer((req, res) => sendBody(req, res, BODY, { ranges: true }));
  t.teardown(server.close);
  const part = join(t.testdir({}), 'a.zip.part');
  writeFileSync(part, 'stale bytes');
  writeFileSync(`${part}.json`, JSON.stringify({ url: 'http://elsewhere/x.zip' }));
  const got = await download({ ...base, url: `${server.url}/a.zip`, partFile: part });
  t.equal(server.requests[0].range, undefined);
  t.equal(got.sha256, SHA);
});

t.test('416: a .part that is already whole is kept; one that is too long starts over', async (t) => {
  const server = await startServer((req, res) => sendBody(req, res, BODY, { ranges: true }));
  t.teardown(server.close);
  const dir = t.testdir({});
  const url = `${server.url}/a.zip`;
  const whole = join(dir, 'whole.part');
  writeFileSync(whole, BODY);
  writeFileSync(`${whole}.json`, JSON.stringify({ url }));
  t.match(await download({ ...base, url, partFile: whole }), { sha256: SHA, resumedFrom: BODY.length });

  const long = join(dir, 'long.part');
  writeFileSync(long, Buffer.concat([BODY, Buffer.from('extra')]));
  writeFileSync(`${long}.json`, JSON.stringify({ url }));
  t.match(await download({ ...base, retries: 1, url, partFile: long }), { sha256: SHA, resumedFrom: 0 });
});

t.test('a 206 that does not continue our bytes starts over', async (t) => {
  const server = await startServer((req, res, n) => {
    if (n === 0) {
      res.writeHead(206, { 'content-range': `bytes 0-99/${BODY.length}`, 'content-length': 100 });
      res.end(BODY.subarray(0, 100));
    } else sendBody(req, res, BODY);
  });
  t.teardown(server.close);
  const part = join(t.testdir({}), 'a.part');
  const url = `${server.url}/a.zip`;
  writeFileSync(part, BODY.subarray(0, 500));
  writeFileSync(`${part}.json`, JSON.stringify({ url }));
  t.match(await download({ ...base, retries: 1, url, partFile: part }), { sha256: SHA, interruptions: 1 });
});

t.test('redirects are followed (relative Location too), but not forever', async (t) => {
  const server = await startServer((req, res) => {
    if (req.url === '/release') res.writeHead(302, { location: '/storage/a.zip' }).end();
    else if (req.url === '/loop') res.writeHead(301, { location: `/loop` }).end();
    else sendBody(req, res, BODY);
  });
  t.teardown(server.close);
  const dir = t.testdir({});
  const got = await download({ ...base, url: `${server.url}/release`, partFile: join(dir, 'a.part') });
  t.equal(got.sha256, SHA);
  t.same(
    server.requests.map((r) => r.path),
    ['/release', '/storage/a.zip'],
  );
  await t.rejects(
    download({ ...base, maxRedirects: 3, url: `${server.url}/loop`, partFile: join(dir, 'b.part') }),
    {
      code: 'DOWNLOAD_HTTP',
      message: /more than 3 redirects/,
    },
  );
});

t.test('an HTTP error status is reported with the URL', async (t) => {
  const server = await startServer((_req, res) => res.writeHead(404).end('no'));
  t.teardown(server.close);
  await t.rejects(
    download({ ...base, url: `${server.url}/gone.zip`, partFile: join(t.testdir({}), 'a.part') }),
    {
      code: 'DOWNLOAD_HTTP',
      message: `${server.url}/gone.zip: HTTP 404 Not Found`,
    },
  );
});

t.test('offline: connection refused fails fast as OFFLINE', async (t) => {
  const server = await startServer(() => {});
  const url = `${server.url}/a.zip`;
  await server.close();
  const started = Date.now();
  await t.rejects(download({ ...base, url, partFile: join(t.testdir({}), 'a.part') }), {
    code: 'OFFLINE',
    message: /^cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/,
  });
  t.ok(Date.now() - started < 1000, 'no waiting for a timeout');
});

t.test(
  'a server that never answers times out as OFFLINE; one that stalls mid-body as interrupted',
  async (t) => {
    const silent = await startServer(() => {});
    t.teardown(silent.close);
    const dir = t.testdir({});
    await t.rejects(
      download({ ...base, timeoutMs: 200, url: `${silent.url}/a`, partFile: join(dir, 'a.part') }),
      {
        code: 'OFFLINE',
        message: /^cannot reach 127\.0\.0\.1:\d+: no answer within 0\.2s$/,
      },
    );
    const stalling = await startServer((_req, res) => {
      res.writeHead(200, { 'content-length': BODY.length });
      res.write(BODY.subarray(0, 1000));
    });
    t.teardown(stalling.close);
    await t.rejects(
      download({ ...base, timeoutMs: 200, url: `${stalling.url}/a`, partFile: join(dir, 'b.part') }),
      {
        code: 'DOWNLOAD_INTERRUPTED',
        message: /interrupted after 1000 of 50000 bytes \(.*no data for 0\.2s/,
      },
    );
    t.equal(statSync(join(dir, 'b.part')).size, 1000);
  },
);

t.test('the caller can stop a download; other URL schemes are refused', async (t) => {
  const stalling = await startServer((_req, res) => {
    res.writeHead(200, { 'content-length': BODY.length });
    res.write(BODY.subarray(0, 1000));
  });
  t.teardown(stalling.close);
  const dir = t.testdir({});
  const controller = new AbortController();
  const pending = download({
    ...base,
    url: `${stalling.url}/a`,
    partFile: join(dir, 'a.part'),
    signal: controller.signal,
    onProgress: (received) => received > 0 && controller.abort(),
  });
  await t.rejects(pending, { code: 'ABORTED', message: /download stopped; run again to resume/ });
  const early = new AbortController();
  early.abort();
  await t.rejects(
    download({ ...base, url: `${stalling.url}/a`, partFile: join(dir, 'b.part'), signal: early.signal }),
    {
      code: 'ABORTED',
    },
  );
  await t.rejects(download({ ...base, url: 'ftp://example.org/a.zip', partFile: join(dir, 'c.part') }), {
    code: 'USAGE',
    message: /only http and https/,
  });
  t.notOk(existsSync(join(dir, 'c.part')));
});

t.test('parseContentRange', async (t) => {
  t.same(parseContentRange('bytes 100-199/1000'), { start: 100, total: 1000 });
  t.same(parseContentRange('bytes 0-9/*'), { start: 0, total: undefined });
  t.match(parseContentRange('bytes */1000'), { total: 1000 });
  t.equal(parseContentRange('items 1-2/3'), undefined);
  t.equal(parseContentRange(undefined), undefined);
});
