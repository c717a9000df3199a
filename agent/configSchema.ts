import type convict from 'convict';
import { BOOLEAN } from '../common/config.js';
import { publicKeyList } from '../common/configFormats.js';
import type { MqttConnectionSettings } from '../common/mqttSettings.js';
import { mqttConnectionSchema, topicPrefixSetting } from '../common/mqttSettings.js';
import { DEFAULT_DISCOVERY_PREFIX, DISCOVERY_PREFIX } from '../common/protocol/homeAssistant.js';
import { clock, deviceId, hermesSites, intent, mpdAddress, pin, range, voice } from './configFormats.js';

/**
 * The one schema of the speaker agent's settings: defaults, validation (every error at once, each naming
 * the key and the bad value), environment variables, flags, `bookrec agent --help` and the TypeScript
 * type all come from here. docs/agent.md lists the keys.
 */
export interface AgentConfig {
  deviceId: string;
  broker: MqttConnectionSettings & {
    timeoutSeconds: number;
    reconnectMinSeconds: number;
    reconnectMaxSeconds: number;
    sessionExpirySeconds: number;
  };
  prefix: string;
  channel: string;
  stateDir: string;
  /** Comma-separated base64 public keys (one string, so the environment and flags can carry it). */
  trustedKeys: string;
  backend: 'auto' | 'wasm' | 'cpu' | 'node';
  signals: {
    file: string;
    pollMs: number;
    maxLineBytes: number;
    mqtt: boolean;
    /** MPD's host:port or socket path; empty: off. */
    mpd: string;
    mpdPassword: string;
    mpdSkipSeconds: number;
    mpdProgressSeconds: number;
  };
  gpio: {
    backend: 'none' | 'fake' | 'onoff' | 'gpiomon' | 'file';
    chip: string;
    linesFile: string;
    sysfsRoot: string;
    recommendPin: number;
    likePin: number;
    skipPin: number;
    activeLow: boolean;
    debounceMs: number;
  };
  tts: { engine: 'espeak-ng' | 'festival' | 'none'; voice: string; rate: number };
  audio: { sink: 'aplay' | 'none'; device: string };
  output: { mode: 'speak' | 'publish' | 'both'; count: number; shareHistory: boolean };
  quietHours: { start: string; end: string };
  hermes: { enabled: boolean; intent: string; lang: string; sites: string };
  homeassistant: { enabled: boolean; prefix: string };
  history: { maxEvents: number; compactEvery: number };
  outbox: { maxMessages: number };
  /** Online quality counters (agent/qualityCounters.ts). */
  quality: { windowSeconds: number; publishSeconds: number; maxVersions: number; maxPending: number };
}

export const agentSchema: convict.Schema<AgentConfig> = {
  deviceId: {
    doc: 'Device id: one topic level and the MQTT username (empty: the host name)',
    format: deviceId,
    default: '',
    env: 'BOOKREC_DEVICE_ID',
    arg: 'device-id',
  },
  broker: {
    ...mqttConnectionSchema('MQTT username (empty: the device id)'),
    timeoutSeconds: {
      doc: 'Timeout of the connection and of every publish/subscribe',
      format: range(1, 600, 'seconds'),
      default: 10,
      env: 'BOOKREC_MQTT_TIMEOUT',
      arg: 'timeout-seconds',
    },
    reconnectMinSeconds: {
      doc: 'First reconnect delay; doubles on every failed attempt',
      format: range(0.1, 600, 'seconds', false),
      default: 1,
      arg: 'reconnect-min-seconds',
    },
    reconnectMaxSeconds: {
      doc: 'Longest reconnect delay',
      format: range(1, 3600, 'seconds', false),
      default: 60,
      arg: 'reconnect-max-seconds',
    },
    sessionExpirySeconds: {
      doc: 'MQTT 5: how long the broker keeps the session (queued signals and commands) while the device is away',
      format: range(0, 4_294_967_294, 'seconds'),
      default: 7 * 24 * 3600,
      arg: 'session-expiry-seconds',
    },
  },
  prefix: topicPrefixSetting,
  channel: {
    doc: 'Release channel followed',
    format: String,
    default: 'stable',
    env: 'BOOKREC_CHANNEL',
    arg: 'channel',
  },
  stateDir: {
    doc: 'State directory: models, history, signal position (systemd: StateDirectory)',
    format: String,
    default: '/var/lib/bookrec-agent',
    env: 'BOOKREC_STATE_DIR',
    arg: 'state-dir',
  },
  trustedKeys: {
    doc: 'Trusted release public keys (base64, as `bookrec keys` prints them), comma-separated',
    format: publicKeyList,
    default: '',
    env: 'BOOKREC_TRUSTED_KEYS',
    arg: 'trusted-keys',
  },
  backend: {
    doc: 'TensorFlow.js backend',
    format: ['auto', 'wasm', 'cpu', 'node'],
    default: 'auto',
    env: 'BOOKREC_BACKEND',
    arg: 'backend',
  },
  signals: {
    file: {
      doc: 'JSONL file a player or e-reader appends listening/reading events to (empty: none)',
      format: String,
      default: '',
      env: 'BOOKREC_SIGNALS_FILE',
      arg: 'signals-file',
    },
    pollMs: {
      doc: 'How often the signal file is checked for new lines and rotation',
      format: range(10, 60_000, 'ms'),
      default: 500,
      arg: 'signals-poll-ms',
    },
    maxLineBytes: {
      doc: 'Longest signal line accepted; longer lines are dropped and counted',
      format: range(64, 1024 * 1024, 'bytes'),
      default: 4096,
      arg: 'signals-max-line-bytes',
    },
    mqtt: {
      doc: 'Accept signals on devices/<id>/signals',
      format: BOOLEAN,
      default: true,
      env: 'BOOKREC_SIGNALS_MQTT',
      arg: 'signals-mqtt',
    },
    mpd: {
      doc: "Follow the speaker's MPD player (moOde, Volumio, Mopidy, mpd): host:port, [IPv6]:port or a socket path (empty: off)",
      format: mpdAddress,
      default: '',
      env: 'BOOKREC_SIGNALS_MPD',
      arg: 'signals-mpd',
    },
    mpdPassword: {
      doc: 'MPD password (prefer the environment or a config file: flags show in ps)',
      format: String,
      default: '',
      sensitive: true,
      env: 'BOOKREC_MPD_PASSWORD',
      arg: 'signals-mpd-password',
    },
    mpdSkipSeconds: {
      doc: 'MPD: a book left for another after less listening than this is "skipped" (its first listening only)',
      format: range(0, 86_400, 'seconds'),
      default: 300,
      arg: 'signals-mpd-skip-seconds',
    },
    mpdProgressSeconds: {
      doc: 'MPD: at most one "progress" event per book per this much listening',
      format: range(60, 86_400, 'seconds'),
      default: 900,
      arg: 'signals-mpd-progress-seconds',
    },
  },
  gpio: {
    backend: {
      doc: 'GPIO buttons: gpiomon (libgpiod), onoff (sysfs), file (levels set by a file), fake, none',
      format: ['none', 'fake', 'onoff', 'gpiomon', 'file'],
      default: 'none',
      env: 'BOOKREC_GPIO_BACKEND',
      arg: 'gpio-backend',
    },
    chip: {
      doc: 'GPIO chip: gpiomon takes its name (gpiochip0); onoff its sysfs label, or "auto"',
      format: String,
      default: 'gpiochip0',
      env: 'BOOKREC_GPIO_CHIP',
      arg: 'gpio-chip',
    },
    linesFile: {
      doc: 'file backend: a text file of "<offset> <level>" lines that sets the line levels (demos, no pins)',
      format: String,
      default: '',
      arg: 'gpio-lines-file',
    },
    sysfsRoot: {
      doc: 'onoff: the sysfs GPIO folder (where gpiochip*/base are read)',
      format: String,
      default: '/sys/class/gpio',
      arg: 'gpio-sysfs-root',
    },
    recommendPin: {
      doc: 'Line offset of the recommend button',
      format: pin,
      default: -1,
      arg: 'gpio-recommend',
    },
    likePin: { doc: 'Line offset of the like button', format: pin, default: -1, arg: 'gpio-like' },
    skipPin: { doc: 'Line offset of the skip button', format: pin, default: -1, arg: 'gpio-skip' },
    activeLow: {
      doc: 'Buttons pull the line to ground when pressed (internal pull-up)',
      format: BOOLEAN,
      default: true,
      arg: 'gpio-active-low',
    },
    debounceMs: {
      doc: 'A level must hold this long to count',
      format: range(0, 1000, 'ms'),
      default: 30,
      arg: 'gpio-debounce-ms',
    },
  },
  tts: {
    engine: {
      doc: 'Speech engine',
      format: ['espeak-ng', 'festival', 'none'],
      default: 'espeak-ng',
      env: 'BOOKREC_TTS',
      arg: 'tts',
    },
    voice: {
      doc: 'Voice: espeak-ng voice (en, en-us, ...) or festival voice procedure (voice_kal_diphone)',
      format: voice,
      default: 'en',
      arg: 'tts-voice',
    },
    rate: {
      doc: 'Speaking rate, words per minute',
      format: range(80, 400, 'wpm'),
      default: 160,
      arg: 'tts-rate',
    },
  },
  audio: {
    sink: {
      doc: 'Playback: aplay, or none (WAV only)',
      format: ['aplay', 'none'],
      default: 'aplay',
      arg: 'audio',
    },
    device: {
      doc: 'ALSA device for aplay -D',
      format: String,
      default: 'default',
      env: 'BOOKREC_AUDIO_DEVICE',
      arg: 'audio-device',
    },
  },
  output: {
    mode: {
      doc: 'What a recommendation does: speak, publish (JSON on devices/<id>/recommendations), both',
      format: ['speak', 'publish', 'both'],
      default: 'both',
      env: 'BOOKREC_OUTPUT',
      arg: 'output',
    },
    count: { doc: 'Books per recommendation', format: range(1, 20, 'books'), default: 3, arg: 'count' },
    shareHistory: {
      doc: 'Answers that leave the device (recommendations topic, command replies, Hermes) may name the history book they are based on ("because you finished X", basedOn); off: only the local speaker says it',
      format: BOOLEAN,
      default: false,
      env: 'BOOKREC_SHARE_HISTORY',
      arg: 'share-history',
    },
  },
  quietHours: {
    start: {
      doc: 'Quiet hours start HH:MM local time: no speech (empty: never quiet)',
      format: clock,
      default: '',
      arg: 'quiet-start',
    },
    end: { doc: 'Quiet hours end HH:MM local time', format: clock, default: '', arg: 'quiet-end' },
  },
  hermes: {
    enabled: {
      doc: 'Answer Rhasspy/Hermes intents (hermes/intent/<intent> -> hermes/tts/say)',
      format: BOOLEAN,
      default: false,
      env: 'BOOKREC_HERMES',
      arg: 'hermes',
    },
    intent: {
      doc: 'Hermes intent name that asks for a recommendation',
      format: intent,
      default: 'RecommendBook',
      arg: 'hermes-intent',
    },
    lang: {
      doc: 'Language sent with hermes/tts/say (empty: none)',
      format: String,
      default: 'en',
      arg: 'hermes-lang',
    },
    sites: {
      doc: 'Hermes sites (siteId) this speaker answers for, comma-separated (empty: its device id; *: every site, a base station)',
      format: hermesSites,
      default: '',
      env: 'BOOKREC_HERMES_SITES',
      arg: 'hermes-sites',
    },
  },
  homeassistant: {
    enabled: {
      doc: 'Announce this speaker to Home Assistant (MQTT device discovery: a button, sensors, a quiet switch, the model as an update); off clears an earlier announcement',
      format: BOOLEAN,
      default: false,
      env: 'BOOKREC_HOMEASSISTANT',
      arg: 'homeassistant',
    },
    prefix: {
      doc: "Home Assistant's discovery prefix",
      format: (v: unknown) => {
        if (typeof v !== 'string' || !DISCOVERY_PREFIX.test(v))
          throw new Error(`must be 1-4 topic levels of A-Z a-z 0-9 _ -, got ${JSON.stringify(v)}`);
      },
      default: DEFAULT_DISCOVERY_PREFIX,
      arg: 'homeassistant-prefix',
    },
  },
  history: {
    maxEvents: {
      doc: 'Listening/reading events kept (oldest dropped)',
      format: range(10, 1_000_000, 'events'),
      default: 5000,
      arg: 'history-max-events',
    },
    compactEvery: {
      doc: 'Append-log lines before the history is compacted into its snapshot',
      format: range(1, 1_000_000, 'lines'),
      default: 500,
      arg: 'history-compact-every',
    },
  },
  outbox: {
    maxMessages: {
      doc: 'Outgoing messages kept while offline (oldest dropped, and said so)',
      format: range(1, 100_000, 'messages'),
      default: 200,
      arg: 'outbox-max',
    },
  },
  quality: {
    windowSeconds: {
      doc: 'Quality counters: a liked/started/finished/skipped signal within this long after an answer counts as its follow-up',
      format: range(1, 90 * 86_400, 'seconds'),
      default: 7 * 86_400,
      arg: 'quality-window-seconds',
    },
    publishSeconds: {
      doc: 'Quality counters: publish (retained, on devices/<id>/counters) this often when they changed (0: only on stop)',
      format: range(0, 86_400, 'seconds', false),
      default: 900,
      arg: 'quality-publish-seconds',
    },
    maxVersions: {
      doc: 'Quality counters: model versions kept (the least recently used is dropped)',
      format: range(1, 32, 'versions'),
      default: 8,
      arg: 'quality-max-versions',
    },
    maxPending: {
      doc: 'Quality counters: answers awaiting follow-ups kept (the oldest is dropped early)',
      format: range(1, 100_000, 'answers'),
      default: 500,
      arg: 'quality-max-pending',
    },
  },
};
