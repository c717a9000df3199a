import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { agentConfig, agentSchema, resolveDeviceId, trustedKeyList } from '../../agent/config.js';
import { main } from '../../cli/bookrec.js';
import { settingsOf } from '../../common/flags.js';
import { testContext } from '../helpers/cliContext.js';
import { testKey } from '../helpers/release.js';

t.test('defaults, file < env < flags, and the key list', async (t) => {
  const c = agentConfig();
  t.equal(c.stateDir, '/var/lib/bookrec-agent');
  t.equal(c.tts.engine, 'espeak-ng');
  t.equal(c.output.mode, 'both');
  t.equal(c.hermes.intent, 'RecommendBook');
  const [a, b] = [testKey(), testKey()];
  const file = join(t.testdir(), 'agent.json');
  writeFileSync(file, JSON.stringify({ channel: 'beta', output: { count: 5 }, trustedKeys: a.publicKey }));
  const withEnv = agentConfig({
    file,
    env: { BOOKREC_CHANNEL: 'edge', BOOKREC_TRUSTED_KEYS: `${a.publicKey}, ${b.publicKey}` },
  });
  t.equal(withEnv.channel, 'edge', 'env beats the file');
  t.equal(withEnv.output.count, 5, 'the file beats the default');
  t.same(trustedKeyList(withEnv), [a.publicKey, b.publicKey]);
  t.equal(agentConfig({ argv: ['--config', file, '--count', '2'] }).output.count, 2, 'flags beat the file');
});

t.test('every bad value is reported at once, naming the key and the value', async (t) => {
  const err = t.throws(() =>
    agentConfig({
      env: { BOOKREC_TTS: 'sam', BOOKREC_TRUSTED_KEYS: 'bm90LWEta2V5' },
      argv: [
        '--count',
        '0',
        '--quiet-start',
        '25:00',
        '--gpio-recommend',
        '2000',
        '--tts-voice',
        'en") (system "x',
      ],
    }),
  ) as Error & { code: string };
  t.equal(err.code, 'CONFIG_INVALID');
  t.match(err.message, /tts\.engine.*"sam"/);
  t.match(err.message, /output\.count.*got 0/);
  t.match(err.message, /quietHours\.start.*"25:00"/);
  t.match(err.message, /gpio\.recommendPin.*got 2000/);
  t.match(err.message, /tts\.voice.*plain voice name/);
  t.match(
    err.message,
    /trustedKeys \(--trusted-keys, BOOKREC_TRUSTED_KEYS\): entry 0/,
    'the key with its flag and variable',
  );
  t.throws(() => agentConfig({ argv: ['--quiet-start', '22:00'] }), {
    message: /quietHours: start "22:00" and end "" must be set together/,
  });
  t.throws(() => agentConfig({ argv: ['--gpio-backend', 'fake'] }), {
    message: /gpio\.backend: "fake" needs at least one pin/,
  });
  t.throws(() => agentConfig({ argv: ['--gpio-like', '17', '--gpio-skip', '17'] }), {
    message: /gpio\.skipPin: line 17 is already gpio\.likePin/,
  });
  t.throws(() => agentConfig({ argv: ['--channel', 'a/b'] }), { message: /channel: "a\/b"/ });
  t.throws(() => agentConfig({ argv: ['--device-id', '+'] }), { message: /deviceId.*"\+"/ });
  t.throws(() => agentConfig({ argv: ['--reconnect-min-seconds', '30', '--reconnect-max-seconds', '10'] }), {
    message: /reconnectMaxSeconds: 10 is below/,
  });
  const dir = t.testdir({ 'typo.json': '{"chanel": "x"}' });
  t.throws(
    () => agentConfig({ file: join(dir, 'typo.json') }),
    { message: /chanel/ },
    'an unknown key in a file',
  );
});

t.test('device id: configured, else the host name when it is a valid name', async (t) => {
  t.equal(resolveDeviceId(agentConfig({ env: { BOOKREC_DEVICE_ID: 'kitchen-1' } }), 'ignored'), 'kitchen-1');
  t.equal(resolveDeviceId(agentConfig(), 'pi-zero'), 'pi-zero');
  t.throws(() => resolveDeviceId(agentConfig(), 'bad host!'), {
    code: 'CONFIG_INVALID',
    message: /BOOKREC_DEVICE_ID/,
  });
});

t.test(
  'bookrec agent --help: every setting with its flag, variable and default, never a secret',
  async (t) => {
    const { ctx, out } = testContext();
    t.equal(await main(['agent', '--help'], ctx), 0);
    const help = out.join('\n');
    t.match(help, /--signals-file FILE +JSONL file .*\[default none, \$BOOKREC_SIGNALS_FILE\]/);
    t.match(help, /--password PASSWORD .*\[secret, \$BOOKREC_MQTT_PASSWORD\]/);
    t.match(help, /--check-config +Validate the settings/);
    t.equal(
      help.match(/^ {2}--\S+/gm)?.length,
      settingsOf(agentSchema).length + 4,
      'each setting, the two switches, --config, --log-level',
    );
  },
);

t.test('bookrec agent --check-config: validates and exits, never prints the password', async (t) => {
  const { ctx, out, err } = testContext({
    BOOKREC_MQTT_PASSWORD: 'hunter2',
    BOOKREC_DEVICE_ID: 'dev-a',
    PATH: process.env.PATH,
    BOOKREC_TRUSTED_KEYS: testKey().publicKey,
  });
  const code = await main(
    ['agent', '--check-config', '--broker', 'mqtt://user:pw@broker.example:1883', '--state-dir', t.testdir()],
    ctx,
  );
  t.equal(code, 0, err.join('\n'));
  const text = out.join('\n');
  t.match(text, /configuration OK/);
  t.match(text, /device id +dev-a/);
  t.match(text, /password set/);
  t.notMatch(text, /hunter2|user:pw/);
  const bad = testContext();
  t.equal(
    await main(['agent', '--check-config', '--output', 'shout'], bad.ctx),
    2,
    'a bad flag value is usage',
  );
  t.match(bad.err.join('\n'), /--output \(output\.mode\): .*got "shout" \[USAGE\]/);
  const badEnv = testContext({ BOOKREC_OUTPUT: 'shout' });
  t.equal(await main(['agent', '--check-config'], badEnv.ctx), 1, 'a bad setting elsewhere is a failure');
  t.match(
    badEnv.err.join('\n'),
    /output\.mode \(--output, BOOKREC_OUTPUT\): .*value was "shout" \[CONFIG_INVALID\]/,
  );
  const typo = testContext();
  t.equal(await main(['agent', '--chek-config'], typo.ctx), 2, 'an unknown flag is a usage error');
  t.match(typo.err.join('\n'), /unknown option --chek-config \(did you mean --check-config\?\)/);
  const help = testContext();
  t.equal(await main(['agent', '--help'], help.ctx), 0);
  t.match(help.out.join('\n'), /--quiet-start/);
});

t.test('--check-config names the programs the settings need that are not installed', async (t) => {
  // A PATH with only a gpiomon in it: espeak-ng and aplay are missing, gpiomon is found.
  const dir = t.testdir({ bin: { gpiomon: '#!/bin/sh\n' }, empty: {}, state: {} });
  const bin = join(dir, 'bin');
  chmodSync(join(bin, 'gpiomon'), 0o755);
  const env = { BOOKREC_DEVICE_ID: 'dev-a', PATH: bin, BOOKREC_TRUSTED_KEYS: testKey().publicKey };
  const state = ['--state-dir', join(dir, 'state')];
  const gpio = ['--gpio-backend', 'gpiomon', '--gpio-recommend', '17'];
  const speaking = testContext(env);
  t.equal(await main(['agent', '--check-config', ...state, ...gpio], speaking.ctx), 1);
  t.match(
    speaking.err.join('\n'),
    /need programs that are not installed: espeak-ng \(tts\.engine espeak-ng: apt install espeak-ng\), aplay \(audio\.sink aplay: apt install alsa-utils\) \[PROGRAM_MISSING\]/,
  );
  t.notMatch(speaking.err.join('\n'), /gpiomon/, 'gpiomon is on PATH');
  const publishing = testContext(env);
  t.equal(
    await main(['agent', '--check-config', ...state, ...gpio, '--output', 'publish'], publishing.ctx),
    0,
    'publishing only: no speech programs needed',
  );
  const noGpiod = testContext({ ...env, PATH: join(dir, 'empty') });
  t.equal(await main(['agent', '--check-config', ...state, ...gpio, '--tts', 'none'], noGpiod.ctx), 1);
  t.match(noGpiod.err.join('\n'), /gpiomon \(gpio\.backend gpiomon: apt install gpiod\)/);
});

t.test('--config reads a commented file; a broken one is a clear error', async (t) => {
  const dir = t.testdir({
    'agent.json':
      '{\n  // where the models come from\n  "broker": { "url": "mqtt://10.0.0.2:1883" },\n  "deviceId": "kitchen" /* one topic level */\n}\n',
    'broken.json': '{\n  "deviceId": "kitchen"\n  "channel": "beta"\n}\n',
  });
  const config = agentConfig({ argv: ['--config', join(dir, 'agent.json')] });
  t.equal(config.broker.url, 'mqtt://10.0.0.2:1883');
  t.equal(config.deviceId, 'kitchen');
  t.throws(() => agentConfig({ argv: ['--config', join(dir, 'broken.json')] }), {
    code: 'CONFIG_FILE',
    message: /broken\.json: not valid JSON at line 3, column 3/,
  });
});

t.test('--check-config fails on no trusted keys and an unusable state dir', async (t) => {
  const dir = t.testdir({ 'a-file': 'not a folder' });
  const key = testKey().publicKey;
  const run = async (args: string[], env: NodeJS.ProcessEnv) => {
    const c = testContext({ BOOKREC_DEVICE_ID: 'dev-a', PATH: process.env.PATH, ...env });
    const code = await main(['agent', '--check-config', ...args], c.ctx);
    return { code, out: c.out.join('\n'), err: c.err.join('\n') };
  };
  const noKeys = await run(['--state-dir', join(dir, 'state')], {});
  t.equal(noKeys.code, 1, 'no trusted keys: every release would be refused');
  t.match(
    noKeys.err,
    /trustedKeys \(--trusted-keys, BOOKREC_TRUSTED_KEYS\): no trusted release keys.*\[CONFIG_INVALID\]/,
  );
  const underFile = await run(['--state-dir', join(dir, 'a-file', 'state')], { BOOKREC_TRUSTED_KEYS: key });
  t.equal(underFile.code, 1, 'a state dir that cannot be created');
  t.match(underFile.err, /stateDir \(--state-dir, BOOKREC_STATE_DIR\): .*a-file.*(ENOTDIR|not a folder)/);
  const isFile = await run(['--state-dir', join(dir, 'a-file')], { BOOKREC_TRUSTED_KEYS: key });
  t.match(isFile.err, /a-file is not a folder/);
  const fine = await run(['--state-dir', join(dir, 'new', 'state'), '--tts', 'none'], {
    BOOKREC_TRUSTED_KEYS: key,
  });
  t.equal(fine.code, 0, 'a state dir that can be created is fine');
  t.match(fine.out, /configuration OK/);
  t.notOk(existsSync(join(dir, 'new')), 'the check created nothing');
});
