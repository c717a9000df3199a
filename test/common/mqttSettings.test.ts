import { createServer } from 'node:net';
import t from 'tap';
import { main } from '../../cli/bookrec.js';
import { brokerUrlProblem, checkBrokerUrl } from '../../common/mqttSettings.js';
import { testContext } from '../helpers/cliContext.js';

/**
 * Broker URLs: only mqtt, mqtts, ws and wss. mqtt.js falls back to plain TCP for a scheme it does not
 * know, so `--broker mqtss://...` sent the password in clear text; a bare host:port failed deep inside
 * the client. Every mistake is refused with the fix, by every command, before any connection.
 */
t.test('good URLs pass; mistyped schemes and bare host:port get the fix', async (t) => {
  for (const good of [
    'mqtt://127.0.0.1:1883',
    'mqtts://broker.example:8883',
    'ws://h/mqtt',
    'wss://u:p@h:443/mqtt',
  ])
    t.equal(brokerUrlProblem(good), undefined, good);
  const cases: [string, RegExp][] = [
    ['mqtss://host:8883', /scheme mqtss:\/\/ .*did you mean mqtts:\/\/host:8883\?/],
    ['mqtt+tls://host:8883', /did you mean mqtts:\/\/host:8883\?/],
    ['https://host:8883', /did you mean mqtts:\/\/host:8883\?/],
    ['tcp://host:1883', /did you mean mqtt:\/\/host:1883\?/],
    ['ftp://host', /scheme ftp:\/\/ .*use mqtts:\/\/ \(TLS\) or mqtt:\/\//],
    [
      '127.0.0.1:1883',
      /no scheme: did you mean mqtt:\/\/127\.0\.0\.1:1883 \(or mqtts:\/\/127\.0\.0\.1:1883 for TLS\)/,
    ],
    ['localhost:1883', /no scheme: did you mean mqtt:\/\/localhost:1883/],
    ['broker.example', /no scheme: did you mean mqtts:\/\/broker\.example:8883/],
    ['not a url', /is not a URL/],
    ['', /required/],
    ['mqtt://', /no host/],
  ];
  for (const [url, problem] of cases) t.match(brokerUrlProblem(url), problem, url);
  t.throws(() => checkBrokerUrl('mqtss://user:hunter2@host:8883'), {
    code: 'CONFIG_INVALID',
    message: /did you mean mqtts:\/\/host:8883/,
  });
  try {
    checkBrokerUrl('mqtss://user:hunter2@host:8883');
  } catch (err) {
    t.notMatch((err as Error).message, /hunter2|user/, 'the password is never repeated');
  }
});

t.test('every command refuses a bad scheme before connecting: no password on the wire', async (t) => {
  // A plain TCP listener standing in for a broker: it records every byte a client sends it.
  const received: Buffer[] = [];
  const server = createServer((socket) => socket.on('data', (d: Buffer) => received.push(d)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  const env = { BOOKREC_MQTT_PASSWORD: 'hunter2', BOOKREC_DEVICE_ID: 'dev-a' };
  const run = async (args: string[]) => {
    const { ctx, out, err } = testContext(env);
    const code = await main(args, ctx);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  for (const scheme of ['mqtss', 'mqtt+tls', 'https', 'ftp']) {
    const url = `${scheme}://127.0.0.1:${port}`;
    const fleet = await run(['fleet', '--broker', url, '--timeout-seconds', '2']);
    t.equal(fleet.code, 2, `fleet ${scheme}: a bad flag value is a usage error`);
    t.match(fleet.err, /--broker \(broker\.url\): scheme .*\[USAGE\]/);
    const check = await run(['agent', '--check-config', '--broker', url, '--state-dir', t.testdir()]);
    t.equal(check.code, 2, `agent --check-config ${scheme}`);
    t.notMatch(check.out, /configuration OK/);
    t.match(check.err, /--broker.*(did you mean mqtts|use mqtts)/);
  }
  const bare = await run(['fleet', '--broker', `127.0.0.1:${port}`]);
  t.match(bare.err, /did you mean mqtt:\/\/127\.0\.0\.1:\d+.*\[USAGE\]/);
  const garbage = await run(['agent', '--check-config', '--broker', 'not a url', '--state-dir', t.testdir()]);
  t.match(garbage.err, /--broker \(broker\.url\): .*is not a URL.*\[USAGE\]/);
  const { ctx, err } = testContext({ ...env, BOOKREC_BROKER_URL: `mqtss://127.0.0.1:${port}` });
  t.equal(await main(['fleet'], ctx), 1, 'from the environment: a configuration error');
  t.match(
    err.join('\n'),
    /broker\.url \(--broker, BOOKREC_BROKER_URL\): scheme .*\[CONFIG_INVALID\]/,
    'named with its flag and variable',
  );
  await new Promise((r) => setImmediate(r));
  t.equal(Buffer.concat(received).length, 0, 'nothing was sent to the listener');
});
