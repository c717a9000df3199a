import { createServer } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { main } from '../../cli/bookrec.js';
import { connectMqtt } from '../../common/mqttConnect.js';
import { brokerTlsProblem } from '../../common/mqttSettings.js';
import { testContext } from '../helpers/cliContext.js';
import { testKey } from '../helpers/release.js';

/**
 * Issue 21 item 4: `mqtt://` with `--ca`/`--cert` sent the password in clear (the TLS files were simply
 * not used) and `--check-config` said OK. TLS files with a plain scheme are now a configuration error,
 * at start and in the check, for the agent, deploy and serve, before any byte goes to the broker.
 */

t.test('brokerTlsProblem: TLS files need mqtts:// or wss://', async (t) => {
  t.equal(
    brokerTlsProblem('mqtt://broker.example:1883', { ca: '/etc/ca.crt' }),
    'mqtt:// is not TLS, but broker.ca (--ca) is set: the password and every message would go in clear; use mqtts://broker.example:8883',
  );
  t.match(
    brokerTlsProblem('ws://h:9001/mqtt', { cert: 'c.pem', key: 'k.pem' }),
    /broker\.cert \(--cert\), broker\.key \(--client-key\) are set: .*use wss:\/\/h:9001\/mqtt$/,
  );
  t.match(brokerTlsProblem('mqtt://[::1]:1884', { ca: Buffer.from('x') }), /use mqtts:\/\/\[::1\]:1884$/);
  t.notMatch(
    brokerTlsProblem('mqtt://user:hunter2@h:1883', { ca: 'ca' }) ?? '',
    /hunter2|user/,
    'never the password',
  );
  t.equal(brokerTlsProblem('mqtts://h:8883', { ca: 'ca', cert: 'c', key: 'k' }), undefined);
  t.equal(brokerTlsProblem('wss://h/mqtt', { ca: 'ca' }), undefined);
  t.equal(brokerTlsProblem('mqtt://h:1883', { ca: '', cert: '', key: '' }), undefined, 'no TLS files');
  t.equal(brokerTlsProblem('mqtt://h:1883', { ca: undefined }), undefined);
});

t.test('agent, deploy and serve refuse mqtt:// with TLS files: nothing reaches the broker', async (t) => {
  // A plain TCP listener standing in for a broker: it records every byte a client sends it.
  const received: Buffer[] = [];
  const heard = new AbortController();
  const server = createServer((socket) =>
    socket.on('data', (d: Buffer) => {
      received.push(d);
      heard.abort();
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  const dir = t.testdir({ 'ca.crt': '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n' });
  const ca = join(dir, 'ca.crt');
  const url = `mqtt://127.0.0.1:${port}`;
  const env = {
    BOOKREC_MQTT_PASSWORD: 'hunter2',
    BOOKREC_DEVICE_ID: 'dev-a',
    BOOKREC_TRUSTED_KEYS: testKey().publicKey,
    PATH: process.env.PATH,
  };
  // A command that wrongly starts runs until the listener hears from it (then it is stopped).
  const run = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const { ctx, out, err } = testContext({ ...env, ...extraEnv });
    const code = await main(args, { ...ctx, signal: heard.signal });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const fix = new RegExp(
    `broker\\.url: mqtt:// is not TLS, but broker\\.ca \\(--ca\\) is set: the password and every message would go in clear; use mqtts://127\\.0\\.0\\.1:${port}`,
  );
  const state = ['--state-dir', join(dir, 'state'), '--tts', 'none'];

  const check = await run(['agent', '--check-config', '--broker', url, '--ca', ca, ...state]);
  t.equal(check.code, 1, 'agent --check-config refuses');
  t.notMatch(check.out, /configuration OK/);
  t.match(check.err, fix);
  const start = await run(['agent', '--broker', url, '--ca', ca, ...state]);
  t.equal(start.code, 1, 'agent start refuses');
  t.match(start.err, fix);
  const fromEnv = await run(['agent', ...state], { BOOKREC_BROKER_URL: url, BOOKREC_MQTT_CA: ca });
  t.match(fromEnv.err, fix, 'the same from the environment');
  const fleet = await run(['fleet', '--broker', url, '--ca', ca, '--timeout-seconds', '2']);
  t.equal(fleet.code, 1, 'deploy (fleet) refuses');
  t.match(fleet.err, fix);
  const serve = await run(['serve', '--fleet', '--port', '0', '--broker', url, '--ca', ca]);
  t.equal(serve.code, 1, 'serve refuses');
  t.match(serve.err, fix);
  t.throws(() => connectMqtt(url, { ca: Buffer.from('pem') }), { code: 'CONFIG_INVALID', message: fix });

  await new Promise((r) => setImmediate(r));
  const bytes = Buffer.concat(received);
  t.equal(bytes.length, 0, 'nothing was sent to the listener');
  t.notOk(bytes.includes('hunter2'), 'the password never went out in clear');
});
