import { generateKeyPairSync } from 'node:crypto';
import t from 'tap';
import { DEFAULT_LIMITS, type SignedManifest } from '../../../common/protocol/manifest.js';
import { checkManifest } from '../../../common/protocol/manifestCheck.js';
import {
  generateSigningKey,
  keyIdOf,
  loadPrivateKey,
  parsePublicKey,
  trustedKeys,
  verifyManifest,
} from '../../../common/protocol/signing.js';
import { TopicMap } from '../../../common/protocol/topics.js';
import { buildRelease, testKey } from '../../helpers/release.js';

const signer = testKey();
const other = testKey();
const manifest = buildRelease(signer.key, new TopicMap()).manifest;
const json = (m: unknown) => Buffer.from(JSON.stringify(m));

t.test('a signed manifest verifies, also re-serialised with other key order and spacing', async (t) => {
  t.doesNotThrow(() => verifyManifest(manifest, signer.keys));
  const reordered = Object.fromEntries(Object.entries(manifest).reverse());
  const payload = Buffer.from(JSON.stringify(reordered, null, 2));
  t.equal(checkManifest(payload, { keys: signer.keys, channel: 'stable' }).version, 1);
  t.equal(manifest.keyId, signer.keyId, 'the key id is set from the signing key');
});

t.test('a changed field breaks the signature', async (t) => {
  for (const change of [{ version: 2 }, { rollback: true }, { rollout: { percent: 100, salt: 'other' } }]) {
    const tampered: SignedManifest = { ...manifest, ...change };
    t.throws(
      () => verifyManifest(tampered, signer.keys),
      { code: 'MANIFEST_SIGNATURE' },
      JSON.stringify(change),
    );
  }
  const files = manifest.files.map((f, i) => (i === 0 ? { ...f, sha256: '0'.repeat(64) } : f));
  t.throws(() => verifyManifest({ ...manifest, files }, signer.keys), { code: 'MANIFEST_SIGNATURE' });
  const short = { ...manifest, signature: Buffer.alloc(10).toString('base64') };
  t.throws(() => verifyManifest(short, signer.keys), { code: 'MANIFEST_SIGNATURE' });
});

t.test(
  'wrong key: a signature by another key under our key id fails; an unknown key id is named',
  async (t) => {
    const forged = buildRelease(other.key, new TopicMap()).manifest;
    t.throws(() => verifyManifest({ ...forged, keyId: signer.keyId }, signer.keys), {
      code: 'MANIFEST_SIGNATURE',
    });
    t.throws(() => verifyManifest(forged, signer.keys), {
      code: 'MANIFEST_UNKNOWN_KEY',
      message: new RegExp(`key ${other.keyId}.*trusted: ${signer.keyId}`),
    });
    t.doesNotThrow(
      () => verifyManifest(forged, trustedKeys([signer.publicKey, other.publicKey])),
      'rotation: both',
    );
  },
);

t.test('checkManifest: size, JSON, channel and limits in that order', async (t) => {
  const opts = { keys: signer.keys, channel: 'stable' };
  t.throws(() => checkManifest(Buffer.alloc(70_000, 32), opts), { code: 'MANIFEST_TOO_LARGE' });
  t.throws(() => checkManifest(Buffer.from('{"format":1,'), opts), { code: 'MANIFEST_JSON' });
  t.throws(() => checkManifest(json(manifest), { ...opts, channel: 'beta' }), {
    code: 'MANIFEST_CHANNEL',
    message: /for channel stable, this reader follows beta/,
  });
  const big = buildRelease(signer.key, new TopicMap(), {
    files: [{ name: 'a', data: Buffer.alloc(5000) }],
  }).manifest;
  t.throws(
    () => checkManifest(json(big), { ...opts, limits: { ...DEFAULT_LIMITS, maxReleaseBytes: 4000 } }),
    {
      code: 'RELEASE_TOO_LARGE',
    },
  );
});

t.test('keys: generation, parsing and refusal of non-Ed25519 material', async (t) => {
  const pair = generateSigningKey();
  t.equal(Buffer.from(pair.publicKey, 'base64').length, 32);
  t.equal(keyIdOf(Buffer.from(pair.publicKey, 'base64')), pair.keyId);
  t.equal(loadPrivateKey(pair.privateKeyPem).asymmetricKeyType, 'ed25519');
  t.throws(() => loadPrivateKey('not a key'), { code: 'KEY_INVALID' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    format: 'pem',
    type: 'pkcs8',
  });
  t.throws(() => loadPrivateKey(ec.toString()), { code: 'KEY_INVALID', message: /ec, not ed25519/ });
  t.throws(() => parsePublicKey('AAAA'), { code: 'KEY_INVALID', message: /32 bytes/ });
});
