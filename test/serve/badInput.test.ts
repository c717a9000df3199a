import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';
import { fixturePackage, postJson, startServe } from './harness.js';

/** One raw HTTP exchange: what the server answers, however the request is cut. */
function rawSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

function responseOf(socket: Socket): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('utf8');
    });
    // The server may close while the client still writes (EPIPE, reset): its answer has arrived by then.
    socket.on('error', (err) => {
      if (text === '') reject(err);
    });
    socket.on('close', () => {
      const [head, body] = text.split('\r\n\r\n', 2);
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head ?? '')?.[1] ?? 0);
      resolve({ status, body: body ? (JSON.parse(body) as Record<string, unknown>) : {} });
    });
  });
}

t.test(
  'malformed JSON, wrong types, unknown routes and media types: the right status and a JSON error',
  async (t) => {
    const dir = await fixturePackage(t);
    const { url } = await startServe(t, ['--package', dir]);
    const post = (body: unknown) => postJson(`${url}/v1/recommend`, body);

    const bad = await post('{"history": [');
    t.equal(bad.status, 400);
    t.match(bad.json, { error: { code: 'BAD_JSON', message: /not valid JSON/ } });
    t.match((await post('')).json, { error: { code: 'BAD_JSON', message: /empty/ } });
    t.match((await post('[1,2]')).json, { error: { code: 'BAD_REQUEST', message: /JSON object/ } });
    t.match(
      (await post('{"__proto__": {"x": 1}, "history": []}')).status,
      400,
      'prototype poisoning refused',
    );

    const types = await post({
      history: [{ bookId: -3, kind: 'eaten', at: 7 }],
      count: 'five',
      exclude: 'x',
      x: 1,
    });
    t.equal(types.status, 400);
    t.same(
      (types.json.error as { problems: string[] }).problems.sort(),
      [
        'count must be an integer 1..50',
        'exclude must be a list of at most 1000 book ids',
        'history[0].at must be an ISO 8601 time',
        'history[0].bookId must be a book id (positive integer)',
        'history[0].kind must be one of finished, liked, started, progress, abandoned, skipped, read',
        'unknown field x',
      ],
      'every field named',
    );
    t.match((await post({})).json, { error: { code: 'BAD_REQUEST', problems: ['history missing'] } });
    t.match((await post({ history: [{ bookId: 1, kind: 'read', at: 'yesterday' }] })).json, {
      error: { message: 'request: history[0]: at must be an ISO 8601 time' },
    });
    t.match((await post({ history: [{ bookId: 1, kind: 'read', at: '2999-01-01T00:00:00Z' }] })).json, {
      error: { message: /history\[0\]: at is more than a day in the future/ },
    });

    const text = await fetch(`${url}/v1/recommend`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hi',
    });
    t.equal(text.status, 415);
    t.match(await text.json(), { error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });

    for (const [method, path] of [
      ['GET', '/nope'],
      ['DELETE', '/v1/recommend'],
      ['GET', '/v1/recommend'],
    ]) {
      const res = await fetch(`${url}${path}`, { method });
      t.equal(res.status, 404, `${method} ${path}`);
      t.same(await res.json(), { error: { code: 'NOT_FOUND', message: `no route ${method} ${path}` } });
    }
    t.equal((await fetch(`${url}/healthz`)).status, 200, 'still up');
  },
);

t.test(
  'a history of 100,000 events: refused by size before parsing, or by the schema when the limit allows it',
  async (t) => {
    const dir = await fixturePackage(t);
    const history = Array.from({ length: 100_000 }, (_, i) => ({ bookId: 1000 + (i % 60), kind: 'read' }));
    const small = await startServe(t, ['--package', dir]);
    const tooBig = await postJson(`${small.url}/v1/recommend`, { history });
    t.equal(tooBig.status, 413);
    t.same(tooBig.json, {
      error: { code: 'BODY_TOO_LARGE', message: 'the request body is over the limit of 262144 bytes' },
    });

    const large = await startServe(t, ['--package', dir, '--body-limit', String(16 * 1024 * 1024)]);
    const many = await postJson(`${large.url}/v1/recommend`, { history });
    t.equal(many.status, 400);
    t.same((many.json.error as { problems: string[] }).problems, [
      'history must be a list of at most 2000 events {bookId, kind, at?}',
    ]);
    // 100,000 bad items: ten problems named, not 100,000.
    const allBad = await postJson(`${large.url}/v1/recommend`, {
      history: history.map(() => ({ bookId: 0 })),
    });
    t.equal(allBad.status, 400);
    t.ok((allBad.json.error as { problems: string[] }).problems.length <= 10, 'problems are bounded');
  },
);

t.test(
  'a huge body is cut off at the limit: the server answers 413 long before the client is done',
  async (t) => {
    const dir = await fixturePackage(t);
    const { url } = await startServe(t, ['--package', dir]);
    const socket = await rawSocket(url);
    const answer = responseOf(socket);
    const total = 64 * 1024 * 1024;
    socket.write(
      `POST /v1/recommend HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${total}\r\n\r\n`,
    );
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let written = 0;
    let answered = false;
    void answer.then(() => {
      answered = true;
    });
    // Write with back-pressure until the server answers and closes, or everything is sent.
    while (written < total && !answered && !socket.destroyed) {
      if (!socket.write(chunk))
        await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
      written += chunk.length;
    }
    const { status, body } = await answer;
    t.equal(status, 413);
    t.match(body, { error: { code: 'BODY_TOO_LARGE' } });
    t.ok(written < total / 4, `the server stopped reading: ${written} of ${total} bytes sent`);
    t.equal((await fetch(`${url}/healthz`)).status, 200, 'still up');
  },
);

t.test('a slow client gets 408 at its deadline while other clients are answered', async (t) => {
  const dir = await fixturePackage(t);
  const { url } = await startServe(t, ['--package', dir, '--request-timeout-ms', '800']);
  const slow = await rawSocket(url);
  const answer = responseOf(slow);
  slow.write(
    'POST /v1/recommend HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"hist',
  );
  // Meanwhile a normal client is served.
  const ok = await postJson(`${url}/v1/recommend`, { history: [{ bookId: 1001, kind: 'liked' }] });
  t.equal(ok.status, 200);
  const { status, body } = await answer;
  t.equal(status, 408);
  t.match(body, { error: { code: 'REQUEST_TIMEOUT', message: 'the request did not arrive within 800 ms' } });
  t.equal((await fetch(`${url}/healthz`)).status, 200, 'still up');
});

t.test('malformed HTTP gets 400 JSON and the connection closed', async (t) => {
  const dir = await fixturePackage(t);
  const { url } = await startServe(t, ['--package', dir]);
  const socket = await rawSocket(url);
  const answer = responseOf(socket);
  socket.write('NOT HTTP AT ALL\r\n\r\n');
  const { status, body } = await answer;
  t.equal(status, 400);
  t.match(body, { error: { code: 'BAD_HTTP' } });
});

t.test('memory stays bounded over a stream of refused and accepted requests', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const dir = await fixturePackage(t);
  const { url } = await startServe(t, ['--package', dir]);
  const big = JSON.stringify({
    history: Array.from({ length: 20_000 }, () => ({ bookId: 1001, kind: 'read' })),
  });
  const round = async () => {
    await Promise.all([
      postJson(`${url}/v1/recommend`, big),
      postJson(`${url}/v1/recommend`, '{"history": [{'),
      postJson(`${url}/v1/recommend`, {
        history: Array.from({ length: 1500 }, (_, i) => ({ bookId: 1000 + (i % 70), kind: 'read' })),
      }),
    ]);
  };
  for (let i = 0; i < 10; i++) await round();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 80; i++) await round();
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  t.comment(
    `heap grew ${(grown / 1e6).toFixed(1)} MB over 240 requests (${(big.length / 1e6).toFixed(1)} MB refused each round)`,
  );
  // Keeping the refused bodies would be ~50 MB; buffers and caches settle well below this.
  t.ok(grown < 20e6, 'no growth in proportion to what was sent');
  t.equal((await fetch(`${url}/healthz`)).status, 200);
});
