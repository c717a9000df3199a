import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { AgentConfig } from './config.js';
import { trustedKeyList } from './config.js';

/**
 * What `bookrec agent --check-config` checks beyond the settings' own validation and the programs they
 * need (programs.ts): whether this machine can run the agent as configured. Each problem is one line
 * naming the setting, its flag and variable: a device that would refuse every release, a state dir it
 * cannot write. Nothing is created or changed.
 */
export async function checkAgentSetup(config: AgentConfig): Promise<string[]> {
  const problems: string[] = [];
  if (trustedKeyList(config).length === 0) {
    problems.push(
      'trustedKeys (--trusted-keys, BOOKREC_TRUSTED_KEYS): no trusted release keys, so every release would be refused; give the public key `bookrec keys` printed',
    );
  }
  const dir = await stateDirProblem(config.stateDir);
  if (dir) problems.push(`stateDir (--state-dir, BOOKREC_STATE_DIR): ${dir}`);
  return problems;
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
