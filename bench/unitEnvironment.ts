import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/**
 * The environment the systemd unit gives the agent (its `Environment=` lines), so the agent benchmark
 * measures the process as a speaker runs it: the unit is the one place those settings are written.
 */
export const UNIT_FILE = fileURLToPath(new URL('../../systemd/bookrec-agent.service', import.meta.url));

export async function unitEnvironment(file = UNIT_FILE): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const m = /^Environment=([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return env;
}
