import type { FastifyInstance } from 'fastify';
import { packageFileNames } from '../common/model/packageManifest.js';
import { HttpError } from './httpError.js';
import type { ModelSlot } from './modelSlot.js';

/**
 * The signed package for the reader's phone: the release manifest exactly as it was signed (the page
 * verifies its Ed25519 signature against the key it trusts) and the files the server verified against it
 * (the page checks each file's sha256 against the manifest again). The server is a mirror, not a source
 * of trust: whatever it serves, the page installs only what the release key signed.
 */
export function packageRoutes(app: FastifyInstance, ctx: { slot: ModelSlot }): void {
  const signed = () => {
    const served = ctx.slot.current;
    const s = served?.signed;
    if (!served || !s) {
      throw new HttpError(
        404,
        'NO_SIGNED_PACKAGE',
        'this server has no signed package to hand out (it serves --package without --manifest, or has no release yet)',
      );
    }
    return { ...s, listed: packageFileNames(served.model.manifest) };
  };

  app.get('/v1/package/signed-manifest.json', async (_req, reply) => {
    const { manifest } = signed();
    reply.header('cache-control', 'no-cache');
    return manifest;
  });

  app.get('/v1/package/files/*', async (req, reply) => {
    const { manifest, files, listed } = signed();
    const name = (req.params as { '*': string })['*'];
    // Only the package's own files: a release signed with anything else beside them (a key copied into
    // the folder before publish checked) must not be handed out from here.
    const entry = listed.has(name) ? manifest.files.find((f) => f.name === name) : undefined;
    const bytes = entry && files.get(entry.name);
    if (!entry || !bytes) {
      throw new HttpError(404, 'NOT_FOUND', `no file ${name.slice(0, 200)} in release ${manifest.version}`);
    }
    // The sha256 is the file's identity: a phone that has it revalidates with no download.
    const etag = `"${entry.sha256}"`;
    reply.header('etag', etag).header('cache-control', 'no-cache');
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply
      .type('application/octet-stream')
      .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  });
}
