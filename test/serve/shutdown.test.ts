import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { fixturePackage, waitFor } from './harness.js';

const CLI = fileURLToPath(new URL('../../dist/cli/bookrec.js', import.meta.url));

t.test('SIGTERM: new connections refused, the request in flight answered, then exit 0', async (t) => {
  const dir = await fixturePackage(t);
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--package', dir, '--port', '0', '--web-dir', '/nonexistent'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitFor(() => /listening on http:\/\/127\.0\.0\.1:(\d+)/.test(out), 'the server to listen');
  const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);

  // A request half sent when the signal comes.
  const body = JSON.stringify({ history: [{ bookId: 1003, kind: 'finished' }], count: 2 });
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let answer = '';
  socket.on('data', (d) => {
    answer += d;
  });
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.write(
    `POST /v1/recommend HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
  );
  // Another request answered after that one was sent: by then the server has read its headers.
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  child.kill('SIGTERM');
  // The listener closes first: a new connection is refused while the old one is still open.
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const probe = connect(port, '127.0.0.1');
        probe.once('connect', () => {
          probe.destroy();
          resolve(false);
        });
        probe.once('error', () => resolve(true));
      }),
    'new connections to be refused',
  );
  socket.end(body.slice(10));
  await closed;
  t.match(answer, /^HTTP\/1\.1 200 OK/, 'the request in flight was answered');
  t.match(answer, /"books":\[\{"id":/);
  t.equal(await exited, 0, 'clean exit');
});
