import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';
import type { AgentConfig } from './config.js';
import { trustedKeyList } from './config.js';

/**
 * What `bookrec agent --check-config` checks beyond the settings' own validation: whether this machine
 * can run the agent as configured. Problems make the check fail (a device that would refuse every release,
 * a state dir it cannot write); warnings are printed (a speech engine or player that is not installed:
 * the speaker still works, silently). Nothing is created or changed.
 */
export interface SetupCheck {
  problems: string[];
  warnings: string[];
}

export async function checkAgentSetup(config: AgentConfig, env: NodeJS.ProcessEnv): Promise<SetupCheck> {
  const problems: string[] = [];
  const warnings: string[] = [];
  if (trustedKeyList(config).length === 0) {
    problems.push(
      'trustedKeys (--trusted-keys, BOOKREC_TRUSTED_KEYS): no trusted release keys, so every release would be refused; give the public key `bookrec keys` printed',
    );
  }
  const dir = await stateDirProblem(config.stateDir);
  if (dir) problems.push(`stateDir (--state-dir, BOOKREC_STATE_DIR): ${dir}`);
  const tool = (name: string, what: string, setting: string) =>
    findOnPath(name, env).then((found) => {
      if (!found)
        warnings.push(
          `${setting}: ${what} ${name} is not installed (not on PATH): the speaker will be silent`,
        );
    });
  if (config.tts.engine !== 'none')
    await tool(config.tts.engine, 'the speech engine', 'tts.engine (--tts, BOOKREC_TTS)');
  if (config.tts.engine === 'espeak-ng' && config.audio.sink === 'aplay')
    await tool('aplay', 'the player', 'audio.sink (--audio)');
  return { problems, warnings };
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

/** Whether an executable `name` is on PATH (no shell: the folders are looked in one by one). */
export async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const folder of (env.PATH ?? '').split(delimiter)) {
    if (folder === '') continue;
    const candidate = join(folder, name);
    const ok = await access(candidate, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (ok) return candidate;
  }
  return undefined;
}
