import { type AddressInfo, createServer } from 'node:net';
import t from 'tap';
import { type MpdClientOptions, MpdConnection } from '../../../../agent/signals/mpd/client.js';
import {
  commandLine,
  firstValue,
  LineSplitter,
  parseMpdAddress,
  readResponseLine,
  splitSongs,
} from '../../../../agent/signals/mpd/protocol.js';
import { startMpd, writeAudiobook } from '../../../helpers/mpd.js';

/** MPD's text protocol: the pure parts, then the client against a real mpd. */

t.test('addresses: host:port, host, [IPv6]:port, socket path; bad ones named', async (t) => {
  t.same(parseMpdAddress('moode.local:6600'), { host: 'moode.local', port: 6600 });
  t.same(parseMpdAddress('192.168.1.20'), { host: '192.168.1.20', port: 6600 });
  t.same(parseMpdAddress('[::1]:6601'), { host: '::1', port: 6601 });
  t.same(parseMpdAddress('/run/mpd/socket'), { path: '/run/mpd/socket' });
  for (const bad of ['host:0', 'host:70000', 'a b:1', 'host:port', 'http://x:1', ':6600', 'host:']) {
    t.throws(() => parseMpdAddress(bad), { code: 'CONFIG_INVALID', message: JSON.stringify(bad) }, bad);
  }
});

t.test('arguments are quoted; a line break or NUL is refused, never sent', async (t) => {
  t.equal(commandLine('status'), 'status\n');
  t.equal(
    commandLine('playlistfind', ['album', 'Say "Hi" \\ Bye']),
    'playlistfind "album" "Say \\"Hi\\" \\\\ Bye"\n',
  );
  t.throws(() => commandLine('playlistfind', ['album', 'x"\nclear']), { code: 'MPD_ARGUMENT' });
  t.throws(() => commandLine('find', ['album', 'a\0b']), { code: 'MPD_ARGUMENT' });
  t.throws(() => commandLine('status\nclear'), { code: 'MPD_ARGUMENT' });
});

t.test('response lines and song lists', async (t) => {
  t.same(readResponseLine('OK'), { kind: 'ok' });
  t.same(readResponseLine('ACK [3@0] {password} incorrect password'), {
    kind: 'ack',
    ack: { code: 3, command: 'password', message: 'incorrect password' },
  });
  t.same(readResponseLine('Title: Part: One'), { kind: 'pair', pair: { key: 'Title', value: 'Part: One' } });
  t.same(readResponseLine('garbage'), { kind: 'other', text: 'garbage' });
  const pairs = ['file: a', 'Pos: 0', 'file: b', 'Pos: 1'].map((l) => {
    const r = readResponseLine(l);
    return r.kind === 'pair' ? r.pair : { key: '', value: '' };
  });
  t.same(
    splitSongs(pairs).map((s) => firstValue(s, 'file')),
    ['a', 'b'],
  );
});

t.test('lines: split across chunks; an overlong line is dropped without being held', async (t) => {
  const lines: (string | undefined)[] = [];
  const splitter = new LineSplitter(12);
  const push = (s: string) => splitter.push(Buffer.from(s), (l) => lines.push(l));
  push('OK MP');
  push('D 0.23\nkey: ');
  push('välue\n');
  push('x'.repeat(6));
  push('y'.repeat(6));
  push('z'.repeat(1000));
  push('\nOK\n');
  t.same(lines, ['OK MPD 0.23', 'key: välue', undefined, 'OK']);
});

t.test('a real mpd: greeting, commands, ACKs, idle and noidle, bounded responses', async (t) => {
  const mpd = await startMpd(t, {
    prepare: (music) =>
      writeAudiobook(music, {
        folder: 'book',
        album: `The Hobbit ${'(very long album tag) '.repeat(8)}`,
        albumArtist: 'J.R.R. Tolkien',
        chapters: 3,
        seconds: 1,
      }),
  });
  await mpd.update();
  const options = (extra: Partial<MpdClientOptions> = {}): MpdClientOptions => ({
    address: { host: '127.0.0.1', port: mpd.port },
    password: '',
    timeoutMs: 5000,
    maxLineBytes: 4096,
    maxResponseBytes: 64 * 1024,
    ...extra,
  });
  const conn = await MpdConnection.open(options());
  t.teardown(() => conn.close());
  t.match(conn.version, /^0\.\d+\.\d+$/);
  await conn.command('add', ['book']);
  t.equal(firstValue(await conn.command('status'), 'playlistlength'), '3');
  await t.rejects(conn.command('add', ['no such folder']), { code: 'MPD_ACK', message: /add failed/ });
  t.equal(
    firstValue(await conn.command('status'), 'state'),
    'stop',
    'the connection is still in step after an ACK',
  );

  // idle returns what changed; with a wait and no change, noidle ends it with nothing.
  t.same(await conn.idle(['player'], 50), [], 'nothing changed: noidle after 50 ms');
  const changed = conn.idle(['player']);
  const other = await MpdConnection.open(options());
  await other.command('play', ['0']);
  t.same(await changed, ['player'], 'another client pressed play');
  await other.command('stop');
  other.close();

  // Bounds: a response over the limit, or a line over the limit, fails that command only.
  const small = await MpdConnection.open(options({ maxResponseBytes: 600 }));
  t.teardown(() => small.close());
  await t.rejects(small.command('playlistinfo'), { code: 'MPD_RESPONSE_TOO_LARGE' });
  t.equal(
    firstValue(await small.command('status'), 'playlistlength'),
    '3',
    'in step after a dropped response',
  );
  const shortLines = await MpdConnection.open(options({ maxLineBytes: 100 }));
  t.teardown(() => shortLines.close());
  await t.rejects(shortLines.command('playlistinfo', ['0']), { code: 'MPD_RESPONSE_TOO_LARGE' });
  t.equal(firstValue(await shortLines.command('status'), 'state'), 'stop', 'in step after an overlong line');

  // A closed connection fails what is pending and says why.
  const closing = await MpdConnection.open(options());
  const waiting = closing.idle(['player']);
  const why = new Promise<Error>((resolve) => closing.onClose(resolve));
  closing.close();
  await t.rejects(waiting, { code: 'MPD_CLOSED' });
  t.match(await why, { code: 'MPD_CLOSED' });
  await t.rejects(closing.command('status'), { code: 'MPD_CLOSED' });
});

t.test('passwords: a wrong one and a missing one are named errors without the password', async (t) => {
  const secret = 'letmein-4711';
  const mpd = await startMpd(t, { password: secret });
  const options = (password: string): MpdClientOptions => ({
    address: { host: '127.0.0.1', port: mpd.port },
    password,
    timeoutMs: 5000,
    maxLineBytes: 4096,
    maxResponseBytes: 64 * 1024,
  });
  const wrong = await MpdConnection.open(options('not-it-0815')).catch((err: Error) => err);
  t.match(wrong, { code: 'MPD_PASSWORD', message: /refused the password/ });
  t.notMatch((wrong as Error).message, /not-it-0815/);
  const none = await MpdConnection.open(options(''));
  t.teardown(() => none.close());
  const denied = await none.command('status').catch((err: Error) => err);
  t.match(denied, { code: 'MPD_PERMISSION', message: /needs a password for "status"/ });
  const right = await MpdConnection.open(options(secret));
  t.teardown(() => right.close());
  t.equal(firstValue(await right.command('status'), 'state'), 'stop');
});

t.test('nobody listening, or not MPD: named errors', async (t) => {
  const mpd = await startMpd(t);
  await mpd.stop();
  const options: MpdClientOptions = {
    address: { host: '127.0.0.1', port: mpd.port },
    password: '',
    timeoutMs: 2000,
    maxLineBytes: 4096,
    maxResponseBytes: 4096,
  };
  await t.rejects(MpdConnection.open(options), { code: 'MPD_CONNECT', message: /ECONNREFUSED/ });
  const aborted = new AbortController();
  aborted.abort();
  await t.rejects(MpdConnection.open({ ...options, signal: aborted.signal }), { code: 'MPD_CLOSED' });

  // Something else on the port (here an SSH-like greeting): refused at the greeting.
  const server = createServer((socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  await t.rejects(MpdConnection.open({ ...options, address: { host: '127.0.0.1', port } }), {
    code: 'MPD_PROTOCOL',
    message: /not an MPD server/,
  });
});
