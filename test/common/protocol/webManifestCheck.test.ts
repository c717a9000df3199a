import { webcrypto } from 'node:crypto';
import t from 'tap';
import { checkManifest } from '../../../common/protocol/manifestCheck.js';
import { signManifest } from '../../../common/protocol/signing.js';
import { TopicMap } from '../../../common/protocol/topics.js';
import { checkManifestWeb, webTrustedKeys } from '../../../common/protocol/webManifestCheck.js';
import { buildRelease, testKey } from '../../helpers/release.js';

// This check runs in browsers, which all have WebCrypto as a global. Node 18 (the device path's Node, whose
// tests also run this file) has it only in node:crypto; the page code never needs it there.
if (!globalThis.crypto) Object.defineProperty(globalThis, 'crypto', { value: webcrypto, configurable: true });

/** Both verifiers on one payload: the same manifest, or the same error code. */
async function both(payload: Buffer, options: { keys: ReturnType<typeof testKey>; channel: string }) {
  const node = (() => {
    try {
      return {
        ok: true as const,
        version: checkManifest(payload, { keys: options.keys.keys, channel: options.channel }).version,
      };
    } catch (err) {
      return { ok: false as const, code: (err as { code: string }).code };
    }
  })();
  const web = await checkManifestWeb(payload, {
    keys: await webTrustedKeys([options.keys.publicKey]),
    channel: options.channel,
  }).then(
    (m) => ({ ok: true as const, version: m.version }),
    (err: { code: string }) => ({ ok: false as const, code: err.code }),
  );
  return { node, web };
}

t.test('the WebCrypto check accepts and refuses exactly what the node:crypto check does', async (t) => {
  const signer = testKey();
  const other = testKey();
  const { manifest } = buildRelease(signer.key, new TopicMap(), { version: 4 });
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const { signature: _s, keyId: _k, ...body } = manifest;
  const cases: [string, Buffer, string | undefined][] = [
    ['a signed manifest', json(manifest), undefined],
    ['a changed field', json({ ...manifest, version: 5 }), 'MANIFEST_SIGNATURE'],
    [
      'a changed file hash',
      json({ ...manifest, files: [{ ...manifest.files[0], sha256: '0'.repeat(64) }, manifest.files[1]] }),
      'MANIFEST_SIGNATURE',
    ],
    ['a cut signature', json({ ...manifest, signature: manifest.signature.slice(4) }), 'MANIFEST_SIGNATURE'],
    ['another key', json(signManifest(body, other.key)), 'MANIFEST_UNKNOWN_KEY'],
    ['another channel', json(signManifest({ ...body, channel: 'beta' }, signer.key)), 'MANIFEST_CHANNEL'],
    ['not JSON', Buffer.from('{"format":1,'), 'MANIFEST_JSON'],
    ['too large', Buffer.alloc(70_000, 32), 'MANIFEST_TOO_LARGE'],
    ['a missing field', json({ ...manifest, keyId: undefined }), 'MANIFEST_INVALID'],
  ];
  for (const [what, payload, code] of cases) {
    const { node, web } = await both(payload, { keys: signer, channel: 'stable' });
    t.same(web, node, `${what}: both agree`);
    t.same(web, code === undefined ? { ok: true, version: 4 } : { ok: false, code }, what);
  }
});

t.test('a public key that is not 32 bytes of base64 is refused with its size', async (t) => {
  await t.rejects(webTrustedKeys(['AAAA']), { code: 'KEY_INVALID', message: /got 3 bytes/ });
  await t.rejects(webTrustedKeys(['***']), { code: 'KEY_INVALID', message: /not base64/ });
});
