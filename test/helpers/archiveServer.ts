import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import yazl from 'yazl';

/** A zip built in memory with yazl, as the release archive would be; `compress: false` stores bytes as is. */
export function buildZip(files: Record<string, string | Buffer>, compress = true): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files)) {
    zip.addBuffer(Buffer.isBuffer(content) ? content : Buffer.from(content), name, { compress });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

export interface SeenRequest {
  path: string;
  range?: string;
  ifRange?: string;
}

export interface TestServer {
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 and a free port; every request is recorded. */
export async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse, index: number) => void,
): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const h = req.headers;
    requests.push({ path: req.url ?? '', range: h.range, ifRange: h['if-range'] as string | undefined });
    handler(req, res, requests.length - 1);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface SendOptions {
  /** Honour Range requests (206); otherwise always send the whole body with 200. */
  ranges?: boolean;
  etag?: string;
  /** Send this many bytes of the answer, then cut the connection. */
  cutAfter?: number;
}

/** Answers a GET with `body`, as a static file server would (Range and If-Range when enabled). */
export function sendBody(req: IncomingMessage, res: ServerResponse, body: Buffer, options: SendOptions = {}) {
  const headers: Record<string, string | number> = { 'content-type': 'application/zip' };
  if (options.etag) headers.etag = options.etag;
  if (options.ranges) headers['accept-ranges'] = 'bytes';
  let start = 0;
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'];
  if (options.ranges && range && (!ifRange || ifRange === options.etag)) {
    start = Number(range[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
  }
  const part = body.subarray(start);
  headers['content-length'] = part.length;
  res.writeHead(start > 0 ? 206 : 200, headers);
  if (options.cutAfter === undefined) {
    res.end(part);
    return;
  }
  // Flush the first bytes, give the client a moment to read them, then drop the socket: the client sees
  // a body shorter than announced.
  res.write(part.subarray(0, options.cutAfter), () => setTimeout(() => req.socket.destroy(), 50));
}
