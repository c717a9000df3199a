import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { errorMessage } from '../common/errors.js';
import type { AgentConfig } from './config.js';
import { trustedKeyList } from './config.js';
import { onPath } from './programs.js';
import { AplaySink } from './speech/aplaySink.js';
import { EspeakTts } from './speech/espeakTts.js';
import { silentSink } from './speech/tts.js';

/**
 * What `bookrec agent` checks about this machine beyond the settings' own rules (agentConfig). One list
 * for both: start refuses with startProblems(), and `--check-config` reports those same lines (the same
 * words) plus what start lets pass but a person should hear of before the first button press: no trusted
 * key (every release refused), a player or speech engine that cannot run. Each problem is one line naming
 * the setting, its flag and variable. Nothing is created or changed.
 */
export interface SetupReport {
  /** The check fails on these. */
  problems: string[];
  /** Reported, not fatal: the speaker still answers over MQTT and Hermes. */
  warnings: string[];
}

/** What start refuses to run with: an unusable state dir, TLS files it cannot read. */
export async function startProblems(config: AgentConfig): Promise<string[]> {
  const problems: string[] = [];
  const dir = await stateDirProblem(config.stateDir);
  if (dir) problems.push(`stateDir (--state-dir, BOOKREC_STATE_DIR): ${dir}`);
  const tls = [
    ['ca', '--ca', 'BOOKREC_MQTT_CA', config.broker.ca],
    ['cert', '--cert', 'BOOKREC_MQTT_CERT', config.broker.cert],
    ['key', '--client-key', 'BOOKREC_MQTT_KEY', config.broker.key],
  ] as const;
  for (const [key, flag, env, file] of tls) {
    if (!file) continue;
    const err = await access(file, constants.R_OK).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    if (err)
      problems.push(`broker.${key} (${flag}, ${env}): cannot read ${file} (${err.code ?? err.message})`);
  }
  return problems;
}

/** Everything `--check-config` says about this machine (the programs' presence: programs.ts). */
export async function checkAgentSetup(config: AgentConfig, env: NodeJS.ProcessEnv): Promise<SetupReport> {
  const problems: string[] = [];
  if (trustedKeyList(config).length === 0) {
    problems.push(
      'trustedKeys (--trusted-keys, BOOKREC_TRUSTED_KEYS): no trusted release keys, so every release would be refused; give the public key `bookrec keys` printed',
    );
  }
  problems.push(...(await startProblems(config)));
  return { problems, warnings: await speechProblems(config, env) };
}

/**
 * Whether the configured speech can run here: espeak-ng synthesises a word (to nothing) and aplay plays
 * 50 ms of silence on the configured device. A program not on PATH is left to programs.ts; festival is
 * not tried (it would speak aloud).
 */
export async function speechProblems(config: AgentConfig, env: NodeJS.ProcessEnv): Promise<string[]> {
  if (config.output.mode === 'publish' || config.tts.engine !== 'espeak-ng') return [];
  const warnings: string[] = [];
  if (onPath('espeak-ng', env.PATH)) {
    const espeak = new EspeakTts({
      dir: '',
      voice: config.tts.voice,
      rate: config.tts.rate,
      sink: silentSink,
    });
    const failed = await espeak.check().then(
      () => undefined,
      (err: unknown) => errorMessage(err),
    );
    if (failed) warnings.push(`tts.engine espeak-ng (--tts, BOOKREC_TTS): does not run here: ${failed}`);
  }
  if (config.audio.sink === 'aplay' && onPath('aplay', env.PATH)) {
    const failed = await new AplaySink({ device: config.audio.device }).probe().then(
      () => undefined,
      (err: unknown) => errorMessage(err),
    );
    if (failed) {
      warnings.push(
        `audio.sink aplay (--audio-sink, BOOKREC_AUDIO_SINK): cannot play on audio.device ${JSON.stringify(config.audio.device)}, every answer would be silent: ${failed}; connect a sound card, choose a device from \`aplay -L\` (--audio-device), or set --audio-sink none or --output publish`,
      );
    }
  }
  return warnings;
}

/**
 * Why the agent could not use `dir` as its state dir: an existing path must be a folder it can write and
 * enter; a missing one must be creatable (its nearest existing parent writable). Undefined when usable.
 */
export async function stateDirProblem(dir: string): Promise<string | undefined> {
  let path = resolve(dir);
  for (;;) {
    const info = await stat(path).catch((err: NodeJS.ErrnoException) => err);
    if (!(info instanceof Error)) {
      if (!info.isDirectory()) return `${path} is not a folder`;
      const ok = await access(path, constants.W_OK | constants.X_OK).then(
        () => true,
        () => false,
      );
      if (ok) return undefined;
      return path === resolve(dir)
        ? `${path} is not writable by this user`
        : `${resolve(dir)} does not exist and cannot be created: ${path} is not writable by this user`;
    }
    if (info.code !== 'ENOENT') return `${path}: ${info.code ?? info.message}`;
    const parent = dirname(path);
    if (parent === path) return `${resolve(dir)} cannot be created`;
    path = parent;
  }
}
