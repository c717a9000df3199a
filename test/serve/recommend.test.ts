import t from 'tap';
import { nodePackageSource } from '../../common/inference/nodePackageSource.js';
import { openModel } from '../../common/inference/openModel.js';
import { rank } from '../../common/inference/ranking.js';
import { sentenceFor } from '../../common/inference/sentence.js';
import { fixturePackage, postJson, startServe } from './harness.js';

t.test('POST /v1/recommend ranks exactly as the shared code does, unknown books reported', async (t) => {
  const dir = await fixturePackage(t);
  const { url } = await startServe(t, ['--package', dir]);
  const at = '2026-01-02T10:00:00.000Z';
  const history = [
    { bookId: 1004, kind: 'finished', at },
    { bookId: 1009, kind: 'liked', at },
    { bookId: 777, kind: 'finished', at },
  ] as const;
  const { status, json } = await postJson(`${url}/v1/recommend`, { history, count: 4, exclude: [1010] });
  t.equal(status, 200);
  const model = await openModel(nodePackageSource(dir));
  const expected = rank(
    model,
    history.map((e) => ({ bookId: e.bookId, kind: e.kind, at: Date.parse(e.at) })),
    { count: 4, exclude: [1010] },
  );
  t.same(json.books, expected.books, 'the same books and scores');
  t.equal(json.reason, expected.reason);
  t.equal(json.sentence, sentenceFor(expected));
  t.same(json.unknown, [777], 'the unknown book is reported, not fatal');
  t.notOk(
    (json.books as { id: number }[]).some((b) => b.id === 1010 || b.id === 1004),
    'excluded and read books left out',
  );
  t.match(json.model, { engine: 'sparse-js', version: null });

  const fallback = await postJson(`${url}/v1/recommend`, { history: [{ bookId: 5, kind: 'read' }] });
  t.equal(fallback.status, 200);
  t.equal(fallback.json.source, 'fallback', 'an all-unknown history gets the popular list');
  t.same(fallback.json.unknown, [5]);
  t.equal((fallback.json.books as unknown[]).length, 2, 'the fixture has two fallback books');
});

t.test('health, readiness, model and metrics', async (t) => {
  const dir = await fixturePackage(t);
  const { url } = await startServe(t, ['--package', dir]);
  t.same(await (await fetch(`${url}/healthz`)).json(), { status: 'ok' });
  const ready = await fetch(`${url}/readyz`);
  t.equal(ready.status, 200);
  t.match(await ready.json(), { ready: true, model: { name: 'm5', engine: 'sparse-js' } });
  t.match(await (await fetch(`${url}/v1/model`)).json(), {
    name: 'm5',
    books: 60,
    from: 'package',
    signed: null,
  });
  await postJson(`${url}/v1/recommend`, { history: [] });
  await postJson(`${url}/v1/recommend`, { history: 'no' });
  const metrics = await fetch(`${url}/metrics`);
  t.match(metrics.headers.get('content-type'), /text\/plain/);
  const text = await metrics.text();
  t.match(
    text,
    /bookrec_http_requests_total\{route="\/v1\/recommend",method="POST",status="200",model_version="m5"\} 1/,
  );
  t.match(
    text,
    /bookrec_http_requests_total\{route="\/v1\/recommend",method="POST",status="400",model_version="none"\} 1/,
  );
  t.match(
    text,
    /bookrec_http_request_duration_seconds_bucket\{le="0.05",route="\/v1\/recommend",method="POST",model_version="m5"\} 1/,
  );
  t.match(text, /bookrec_model_info\{name="m5",version="m5",engine="sparse-js",from="package"\} 1/);
  t.match(text, /process_resident_memory_bytes/);
});

t.test('the signed package is not handed out without a signed manifest', async (t) => {
  const dir = await fixturePackage(t);
  const { url } = await startServe(t, ['--package', dir]);
  const res = await fetch(`${url}/v1/package/signed-manifest.json`);
  t.equal(res.status, 404);
  t.match(await res.json(), { error: { code: 'NO_SIGNED_PACKAGE' } });
});
