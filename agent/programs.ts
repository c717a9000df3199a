import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { AgentConfig } from './config.js';

/**
 * The programs the settings make the agent run (speech engine, player, GPIO tool), looked up on PATH
 * as execFile will look them up. A missing one does not stop the agent (it still answers over MQTT and
 * voice with what it has), but `--check-config` reports it with the Debian package that brings it, and
 * the agent logs it at start, so a missing espeak-ng is found before the first button press is silent.
 */
export interface MissingProgram {
  program: string;
  /** The Debian package that installs it. */
  debianPackage: string;
  /** The setting that needs it. */
  neededBy: string;
}

export function onPath(program: string, path: string | undefined): boolean {
  for (const dir of (path ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

/** What the settings need that is not on `env.PATH`, in the order a person would install it. */
export function missingPrograms(config: AgentConfig, env: NodeJS.ProcessEnv): MissingProgram[] {
  const speaks = config.output.mode !== 'publish';
  const needed: MissingProgram[] = [];
  if (speaks && config.tts.engine === 'espeak-ng') {
    needed.push({ program: 'espeak-ng', debianPackage: 'espeak-ng', neededBy: 'tts.engine espeak-ng' });
    if (config.audio.sink === 'aplay')
      needed.push({ program: 'aplay', debianPackage: 'alsa-utils', neededBy: 'audio.sink aplay' });
  }
  if (speaks && config.tts.engine === 'festival')
    needed.push({ program: 'festival', debianPackage: 'festival', neededBy: 'tts.engine festival' });
  if (config.gpio.backend === 'gpiomon')
    needed.push({ program: 'gpiomon', debianPackage: 'gpiod', neededBy: 'gpio.backend gpiomon' });
  return needed.filter((p) => !onPath(p.program, env.PATH));
}

/** One line for a person: "espeak-ng (tts.engine espeak-ng: apt install espeak-ng), ...". */
export function describeMissing(missing: readonly MissingProgram[]): string {
  return missing.map((m) => `${m.program} (${m.neededBy}: apt install ${m.debianPackage})`).join(', ');
}
