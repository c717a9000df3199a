import t from 'tap';
import { canonicalJson } from '../../../common/protocol/canonical.js';
import { chunkLength, FileAssembly } from '../../../common/protocol/chunker.js';
import {
  checkLimits,
  compareSemver,
  DEFAULT_LIMITS,
  isSafeFileName,
  validateManifest,
} from '../../../common/protocol/manifest.js';
import { TopicMap } from '../../../common/protocol/topics.js';
import { buildRelease, bytes, testKey } from '../../helpers/release.js';

const { key } = testKey();
const good = () =>
  JSON.parse(JSON.stringify(buildRelease(key, new TopicMap()).manifest)) as Record<string, unknown>;

t.test('canonical JSON sorts keys at every depth and has no whitespace', async (t) => {
  t.equal(
    canonicalJson({ b: 1, a: [{ d: true, c: null }], é: 'x' }),
    '{"a":[{"c":null,"d":true}],"b":1,"é":"x"}',
  );
  t.equal(
    canonicalJson({ a: undefined, b: 2 }),
    '{"b":2}',
    'undefined members are left out, as JSON.stringify does',
  );
  t.equal(canonicalJson(0.1 + 0.2), '0.30000000000000004', 'numbers as ECMAScript writes them (JCS)');
  t.equal(
    canonicalJson(JSON.parse('{"z":1,"a":2}')),
    canonicalJson({ a: 2, z: 1 }),
    'key order does not matter',
  );
  t.throws(() => canonicalJson({ x: Number.NaN }), { code: 'CANONICAL_JSON', message: /\$\.x/ });
  t.throws(() => canonicalJson({ f: () => 1 }), { code: 'CANONICAL_JSON' });
});

t.test('a well-formed manifest validates', async (t) => {
  const m = validateManifest(good());
  t.equal(m.files.length, 2);
  t.equal(m.files[1].chunks, Math.ceil(10_000 / 1024));
});

t.test('each missing field is named', async (t) => {
  for (const field of [
    'channel',
    'version',
    'serial',
    'files',
    'rollout',
    'keyId',
    'signature',
    'minAgentVersion',
  ]) {
    const m = good();
    delete m[field];
    t.throws(
      () => validateManifest(m),
      { code: 'MANIFEST_INVALID', message: new RegExp(`${field} missing`) },
      field,
    );
  }
});

t.test('wrong values are refused with the rule, all at once', async (t) => {
  const m = good();
  m.version = 0;
  m.channel = 'a/b';
  m.createdAt = 'yesterday';
  m.extra = 1;
  const err = t.throws(() => validateManifest(m)) as Error;
  for (const part of [
    'version must be a positive integer',
    'channel must be',
    'createdAt',
    'unknown field extra',
  ]) {
    t.match(err.message, part);
  }
  t.throws(() => validateManifest({ ...good(), format: 2 }), { code: 'MANIFEST_FORMAT' });
  t.throws(() => validateManifest([]), { code: 'MANIFEST_INVALID', message: /not a JSON object/ });
  t.throws(() => validateManifest({ ...good(), rollout: { percent: 101, salt: 's', x: 1 } }), {
    message: /rollout.percent.*unknown field rollout.x|unknown field rollout.x.*rollout.percent/,
  });
  t.throws(() => validateManifest({ ...good(), metrics: { a: 'high' } }), { message: /metrics.a/ });
  t.throws(() => validateManifest({ ...good(), files: [] }), { message: /files must be a non-empty list/ });
});

t.test('file entries: chunk count, hash form, names, duplicates', async (t) => {
  const files = good().files as Record<string, unknown>[];
  const bad = (change: Record<string, unknown>, pattern: RegExp) => {
    const m = good();
    m.files = [{ ...files[0], ...change }, files[1]];
    t.throws(() => validateManifest(m), { message: pattern }, JSON.stringify(change));
  };
  bad({ chunks: 99 }, /files\[0\]\.chunks must be ceil/);
  bad({ sha256: 'ABC' }, /sha256 must be 64 lowercase hex/);
  bad({ name: '../etc/passwd' }, /files\[0\]\.name/);
  bad({ name: files[1].name }, /listed twice/);
  bad({ size: -1 }, /size must be bytes/);
  bad({ mode: 0o777 }, /unknown field files\[0\]\.mode/);
  for (const name of ['/abs', 'a//b', 'a/../b', '.hidden', 'a\\b', 'x y', ''])
    t.notOk(isSafeFileName(name), name);
  for (const name of ['model.json', 'weights/group1-shard1of1.bin', 'a_b/c-d.e'])
    t.ok(isSafeFileName(name), name);
});

t.test('limits: a 2 GB claim is refused by its numbers alone', async (t) => {
  const m = validateManifest(good());
  const huge = { ...m, files: [{ ...m.files[0], size: 2 * 1024 ** 3, chunks: (2 * 1024 ** 3) / 1024 }] };
  t.throws(() => checkLimits(huge, DEFAULT_LIMITS), {
    code: 'RELEASE_TOO_LARGE',
    message: /2147483648 bytes/,
  });
  const tinyChunks = { ...m, files: [{ ...m.files[0], chunkSize: 16 }] };
  t.throws(() => checkLimits(tinyChunks, DEFAULT_LIMITS), { message: /chunk size 16 outside/ });
  t.throws(() => checkLimits(m, { ...DEFAULT_LIMITS, maxFiles: 1 }), { message: /2 files, at most 1/ });
  t.throws(() => checkLimits(m, { ...DEFAULT_LIMITS, maxReleaseBytes: 100 }), {
    message: /release claims 13000/,
  });
  t.doesNotThrow(() => checkLimits(m, DEFAULT_LIMITS));
});

t.test('semver comparison is numeric per part', async (t) => {
  t.ok(compareSemver('0.10.0', '0.9.9') > 0);
  t.ok(compareSemver('1.0.0', '1.0.1') < 0);
  t.equal(compareSemver('2.3.4', '2.3.4'), 0);
});

t.test('file assembly: any order, duplicates ignored, wrong lengths and hashes refused', async (t) => {
  const data = bytes(2500, 3);
  const release = buildRelease(key, new TopicMap(), { files: [{ name: 'f.bin', data }], chunkSize: 1024 });
  const file = release.manifest.files[0];
  t.equal(chunkLength(file, 2), 452, 'the last chunk is the remainder');
  const a = new FileAssembly(file, (n) => Buffer.alloc(n));
  t.equal(a.add(2, data.subarray(2048)), 'added');
  t.equal(a.add(0, data.subarray(0, 1024)), 'added');
  t.equal(a.add(0, data.subarray(0, 1024)), 'duplicate');
  t.same(a.missing(10), [1]);
  t.throws(() => a.verified(), { code: 'FILE_INCOMPLETE' });
  t.throws(() => a.add(1, data.subarray(1024, 2000)), {
    code: 'CHUNK_INVALID',
    message: /976 bytes, expected 1024/,
  });
  t.throws(() => a.add(3, data.subarray(0, 1)), { code: 'CHUNK_INVALID', message: /does not exist/ });
  t.equal(a.add(1, data.subarray(1024, 2048)), 'added');
  t.ok(a.verified().equals(data));

  const tampered = new FileAssembly(file, (n) => Buffer.alloc(n));
  const evil = Buffer.from(data);
  evil[5] ^= 1;
  for (let n = 0; n < 3; n++) tampered.add(n, evil.subarray(n * 1024, Math.min(2500, (n + 1) * 1024)));
  t.throws(() => tampered.verified(), { code: 'FILE_SHA256', message: /f\.bin: sha256/ });
});
