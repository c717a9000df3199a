import { request } from 'node:http';
import t from 'tap';
import { serveConfig } from '../../serve/config.js';
import { addressKey, GuessLimit } from '../../serve/fleet/guessLimit.js';
import { hostAllowed, isLoopback } from '../../serve/hostCheck.js';
import { bearerToken, sameToken, tokenWeakness } from '../../serve/operatorToken.js';
import { startServe } from './harness.js';

/**
 * The dashboard's door (issue 21, item 5): a strong operator token or no start, wrong guesses limited
 * per address and logged without the token, the fleet view behind the token when the server listens
 * beyond loopback, and only the host names the server answers to (DNS rebinding). The dashboard talks to
 * no broker here (nothing listens on port 1): these routes need none.
 */

const TOKEN = 'f3a9c2e17b5d40e8a6c1f9b2d7e43a05c8b16e29d4f7a3b0e5c9d2f81a6b4c37';
const NO_BROKER = ['--fleet', '--broker', 'mqtt://127.0.0.1:1', '--username', 'deploy'];

/** One HTTP request with the given headers (Host included, which fetch does not let us set). */
function get(url: string, path: string, headers: Record<string, string> = {}) {
  const { hostname, port } = new URL(url);
  return new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const req = request({ host: hostname, port, path, headers }, (res) => {
      const type = String(res.headers['content-type'] ?? '');
      if (type.startsWith('text/event-stream')) {
        // The stream never ends: its first event is enough.
        res.once('data', (chunk: Buffer) => {
          resolve({ status: res.statusCode ?? 0, type, body: chunk.toString() });
          req.destroy();
        });
        return;
      }
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('a weak operator token stops the start, saying how to make one', async (t) => {
  for (const weak of ['Q7', 'secret', 'a'.repeat(40), 'ab'.repeat(20), '12345678901234567890123456789012']) {
    const err = (() => {
      try {
        serveConfig({ env: { BOOKREC_FLEET_TOKEN: weak }, argv: NO_BROKER });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    t.match(
      err,
      { code: 'CONFIG_INVALID', message: /BOOKREC_FLEET_TOKEN is too weak.*openssl rand -hex 32/ },
      `${weak.length} chars`,
    );
    t.notOk(err?.message.includes(weak), 'the message never quotes the token');
  }
  t.equal(tokenWeakness(TOKEN), undefined, 'openssl rand -hex 32 will do');
  t.equal(tokenWeakness('f3a9c2e17b5d40e8a6c1f9b2d7e43a05'), undefined, '128 bits of hex will do');
  t.ok(serveConfig({ env: { BOOKREC_FLEET_TOKEN: TOKEN }, argv: NO_BROKER }));
});

t.test('the dashboard beyond loopback needs a token; host names must be names', async (t) => {
  t.throws(() => serveConfig({ argv: [...NO_BROKER, '--host', '0.0.0.0'] }), {
    message: /listening on 0\.0\.0\.0 \(beyond loopback\) needs BOOKREC_FLEET_TOKEN/,
  });
  t.ok(serveConfig({ argv: NO_BROKER }), 'on loopback a read-only dashboard needs none');
  t.throws(() => serveConfig({ argv: [...NO_BROKER, '--allowed-hosts', 'ok.example,bad name'] }), {
    message: /allowedHosts: "bad name" is not a host name/,
  });
  for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) t.ok(isLoopback(host), host);
  for (const host of ['0.0.0.0', '::', '192.168.1.10', 'bookrec.example.net'])
    t.notOk(isLoopback(host), host);
});

t.test('tokens compare equal only when equal, whatever their lengths', async (t) => {
  t.ok(sameToken(TOKEN, TOKEN));
  t.notOk(sameToken(TOKEN.slice(0, -1), TOKEN));
  t.notOk(sameToken(`${TOKEN}0`, TOKEN));
  t.notOk(sameToken('', TOKEN));
  t.equal(
    bearerToken('Bearer two words of a long pass phrase'),
    'two words of a long pass phrase',
    'a pass phrase',
  );
  t.equal(bearerToken('Basic abc'), '');
});

t.test('wrong guesses per address: blocked after the limit until the window ends', async (t) => {
  let now = 0;
  const limit = new GuessLimit({ maxFailures: 3, windowMs: 60_000, maxAddresses: 2, now: () => now });
  for (let i = 1; i <= 3; i++) t.equal(limit.fail('10.0.0.1'), i);
  t.equal(limit.blockedFor('10.0.0.1'), 60_000, 'blocked for the rest of the window');
  t.equal(limit.blockedFor('10.0.0.2'), 0, 'another address is not');
  now = 59_999;
  t.equal(limit.blockedFor('10.0.0.1'), 1);
  now = 60_000;
  t.equal(limit.blockedFor('10.0.0.1'), 0, 'free again when the window ends');
  t.equal(addressKey('2001:db8:1:2:aaaa::1'), addressKey('2001:db8:1:2:bbbb::9'), 'one /64 counts as one');
  t.not(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
  t.equal(addressKey('::ffff:10.0.0.1'), '10.0.0.1');
  for (const ip of ['10.0.0.3', '10.0.0.4', '10.0.0.5']) limit.fail(ip);
  t.equal(limit.blockedFor('10.0.0.3'), 0, 'bounded: the oldest address is let go');
});

t.test('only IP addresses, localhost and configured names are answered', async (t) => {
  const allowed = new Set(['bookrec.example.net']);
  for (const host of [
    '127.0.0.1:8080',
    'localhost:8080',
    'app.localhost',
    '[::1]:8080',
    '192.168.1.10',
    'bookrec.example.net:443',
    'BOOKREC.example.net.',
  ]) {
    t.ok(hostAllowed(host, allowed), host);
  }
  for (const host of [
    undefined,
    '',
    'evil.example',
    'bookrec.example.net.evil.example',
    'localhost.evil.example',
    '[zz]',
  ]) {
    t.notOk(hostAllowed(host, allowed), String(host));
  }
});

t.test('a served request for another host name is refused (DNS rebinding)', async (t) => {
  const { url } = await startServe(t, [...NO_BROKER, '--allowed-hosts', 'bookrec.example.net'], {});
  t.match(await get(url, '/v1/fleet/state', { host: 'rebind.evil.example' }), {
    status: 421,
    body: /HOST_NOT_ALLOWED.*allowed-hosts/,
  });
  t.match(await get(url, '/healthz', { host: 'rebind.evil.example' }), { status: 421 }, 'every route');
  t.match(await get(url, '/v1/fleet/state', { host: 'bookrec.example.net:8080' }), { status: 200 });
  t.match(
    await get(url, '/v1/fleet/state', { host: 'localhost' }),
    { status: 200 },
    'on loopback, reads are open',
  );
});

t.test('beyond loopback the fleet view needs the token; guesses are limited and logged', async (t) => {
  // Listening on every interface: the requests still come over loopback, the rule follows the bind.
  const { url, log } = await startServe(t, [...NO_BROKER, '--host', '0.0.0.0'], {
    BOOKREC_FLEET_TOKEN: TOKEN,
  });
  const local = url.replace('0.0.0.0', '127.0.0.1');
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  for (const path of ['/v1/fleet/state', '/v1/fleet/events']) {
    t.match(await get(local, path), { status: 401, body: /UNAUTHORIZED/ }, `${path} without a token`);
  }
  t.match(await get(local, '/v1/fleet/state', bearer(TOKEN)), { status: 200, body: /"devices":\[\]/ });
  t.match(await get(local, '/v1/fleet/events', bearer(TOKEN)), {
    status: 200,
    type: /text\/event-stream/,
    body: /^event: fleet\ndata: \{"devices"/,
  });

  const guesses: string[] = [];
  for (let i = 0; i < 10; i++) {
    const guess = `${TOKEN.slice(0, 60)}${String(i).padStart(4, '0')}`;
    guesses.push(guess);
    t.match(await get(local, '/v1/fleet/state', bearer(guess)), { status: 401 }, `guess ${i + 1}`);
  }
  t.match(
    await get(local, '/v1/fleet/state', bearer(TOKEN)),
    { status: 429, body: /TOO_MANY_GUESSES.*try again in \d+ s/ },
    'after 10 wrong tokens even the right one waits',
  );
  const refusals = log.lines.filter((l) => l.msg === 'wrong operator token');
  t.equal(refusals.length, 10, 'each wrong token logged');
  t.match(refusals[9], { level: 'warn', from: '127.0.0.1', route: 'GET /v1/fleet/state', failures: 10 });
  const text = JSON.stringify(log.lines);
  for (const token of [TOKEN, ...guesses]) t.notOk(text.includes(token), 'no token in the log');
});
