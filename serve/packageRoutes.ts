import type { FastifyInstance } from 'fastify';
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
    const s = ctx.slot.current?.signed;
    if (!s) {
      throw new HttpError(
        404,
        'NO_SIGNED_PACKAGE',
        'this server has no signed package to hand out (it serves --package without --manifest, or has no release yet)',
      );
    }
    return s;
  };

  app.get('/v1/package/signed-manifest.json', async (_req, reply) => {
    const { manifest } = signed();
    reply.header('cache-control', 'no-cache');
    return manifest;
  });

  app.get('/v1/package/files/*', async (req, reply) => {
    const { manifest, files } = signed();
    const name = (req.params as { '*': string })['*'];
    const entry = manifest.files.find((f) => f.name === name);
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
