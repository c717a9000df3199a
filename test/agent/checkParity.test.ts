import { join } from 'node:path';
import t from 'tap';
import { main } from '../../cli/bookrec.js';
import { testContext } from '../helpers/cliContext.js';
import { testKey } from '../helpers/release.js';

/**
 * Issue 21 item 9: `bookrec agent --check-config` refuses everything `bookrec agent` refuses, with the
 * same words: both go through agentConfig() and startProblems(). Before, `--homeassistant --device-id
 * kitchen.v2` was "configuration OK" and start failed on the node id; a CA file that is not there passed
 * the check and failed the start.
 */
const key = testKey().publicKey;

interface Run {
  code: number;
  out: string;
  err: string;
}

async function agent(args: string[]): Promise<Run> {
  const { ctx, out, err } = testContext({
    BOOKREC_DEVICE_ID: 'dev-a',
    BOOKREC_TRUSTED_KEYS: key,
    PATH: process.env.PATH,
  });
  // Already aborted: a start that is wrongly not refused runs up, stops at once and returns 0.
  const stopped = new AbortController();
  stopped.abort();
  const code = await main(['agent', ...args], { ...ctx, signal: stopped.signal });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

t.test('every config start refuses, --check-config refuses with the same message', async (t) => {
  const dir = t.testdir({ 'ca.crt': 'not used', 'a-file': 'not a folder' });
  const cases: { name: string; args: string[]; problem: RegExp }[] = [
    {
      name: 'a device id Home Assistant cannot use',
      args: ['--homeassistant', '--device-id', 'kitchen.v2'],
      problem: /homeassistant: device id "kitchen\.v2" cannot be a Home Assistant node id [^;[]+/,
    },
    {
      name: 'TLS files with mqtt://',
      args: ['--broker', 'mqtt://127.0.0.1:1', '--ca', join(dir, 'ca.crt')],
      problem: /broker\.url: mqtt:\/\/ is not TLS, but broker\.ca \(--ca\) is set[^;[]+/,
    },
    {
      name: 'a CA file that is not there',
      args: ['--broker', 'mqtts://127.0.0.1:1', '--ca', join(dir, 'missing.crt')],
      problem: /broker\.ca \(--ca, BOOKREC_MQTT_CA\): cannot read \S+missing\.crt \(ENOENT\)/,
    },
    {
      name: 'a client certificate that is not there',
      args: ['--broker', 'mqtts://127.0.0.1:1', '--cert', join(dir, 'nope.pem')],
      problem: /broker\.cert \(--cert, BOOKREC_MQTT_CERT\): cannot read \S+nope\.pem \(ENOENT\)/,
    },
    {
      name: 'a state dir that is a file',
      args: ['--state-dir', join(dir, 'a-file')],
      problem: /stateDir \(--state-dir, BOOKREC_STATE_DIR\): \S+a-file is not a folder/,
    },
    {
      name: 'a state dir under a file',
      args: ['--state-dir', join(dir, 'a-file', 'state')],
      problem: /stateDir \(--state-dir, BOOKREC_STATE_DIR\): \S+a-file\/state: ENOTDIR/,
    },
    {
      name: 'quiet hours with one end',
      args: ['--quiet-start', '22:00'],
      problem: /quietHours: start "22:00" and end "" must be set together/,
    },
    {
      name: 'one GPIO line for two buttons',
      args: ['--gpio-backend', 'fake', '--gpio-recommend', '17', '--gpio-like', '17'],
      problem: /gpio\.likePin: line 17 is already gpio\.recommendPin/,
    },
  ];
  for (const c of cases) {
    const args = ['--tts', 'none', '--state-dir', join(dir, 'state'), ...c.args];
    const start = await agent(args);
    const check = await agent(['--check-config', ...args]);
    t.not(start.code, 0, `${c.name}: start refuses`);
    const said = c.problem.exec(start.err)?.[0];
    t.ok(said, `${c.name}: start says ${c.problem} (${start.err})`);
    t.not(check.code, 0, `${c.name}: --check-config refuses`);
    t.notMatch(check.out, /configuration OK/, `${c.name}: not OK`);
    t.ok(said && check.err.includes(said), `${c.name}: the check says the same: ${check.err}`);
  }
});

t.test('--check-config reports a player that cannot play (no sound card) without failing', async (t) => {
  const dir = t.testdir();
  const base = ['--check-config', '--state-dir', join(dir, 'state'), '--tts', 'espeak-ng'];
  const silent = await agent([...base, '--audio-device', 'hw:9,9']);
  t.equal(silent.code, 0, silent.err);
  t.match(
    silent.out,
    /configuration OK[\s\S]*\nwarning: audio\.sink aplay \(--audio-sink, BOOKREC_AUDIO_SINK\): cannot play on audio\.device "hw:9,9", every answer would be silent: aplay -D hw:9,9: exit 1: audio open error: [^\n]+; connect a sound card/,
  );
  t.notMatch(silent.out, /ALSA lib/, 'one line, not ALSA stderr');
  const playing = await agent([...base, '--audio-device', 'null']);
  t.equal(playing.code, 0, playing.err);
  t.notMatch(playing.out, /warning:/, "ALSA's null device plays");
  const badVoice = await agent([...base, '--audio-device', 'null', '--tts-voice', 'xx-nope']);
  t.match(
    badVoice.out,
    /warning: tts\.engine espeak-ng \(--tts, BOOKREC_TTS\): does not run here: espeak-ng: exit 1/,
  );
  const publishing = await agent([...base, '--audio-device', 'hw:9,9', '--output', 'publish']);
  t.notMatch(publishing.out, /warning:/, 'publishing only: nothing to play');
});
