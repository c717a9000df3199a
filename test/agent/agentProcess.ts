import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_USERS } from '../helpers/mosquitto.js';

/**
 * `bookrec agent` as a process of its own (the built CLI, as systemd runs it), for tests that kill it,
 * measure its memory or restart it. Its log (JSON lines on stderr) is kept; it is SIGKILLed when the
 * test ends.
 */
const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CLI = join(REPO, 'dist', 'cli', 'bookrec.js');

interface T {
  teardown(fn: () => unknown): void;
  fail(message: string): unknown;
}

export interface AgentProcess {
  child: ChildProcess;
  /** The agent's log so far (the last 200 kB). */
  log(): string;
  /** Resident memory in KiB (Linux /proc). */
  rssKiB(): Promise<number>;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
}

export function agentProcess(
  t: T,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  device = 'dev-a',
): AgentProcess | undefined {
  if (!existsSync(CLI)) {
    t.fail(`${CLI} is missing: build first (npm test does)`);
    return undefined;
  }
  let stderr = '';
  const child = spawn(process.execPath, [CLI, 'agent', '--tts', 'none', '--output', 'publish', ...args], {
    env: {
      PATH: process.env.PATH,
      // Debian's node 18 (scripts/debian-node.sh) finds its libraries through this; the system's needs none.
      ...(process.env.LD_LIBRARY_PATH ? { LD_LIBRARY_PATH: process.env.LD_LIBRARY_PATH } : {}),
      BOOKREC_DEVICE_ID: device,
      BOOKREC_MQTT_PASSWORD: TEST_USERS[device],
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-200_000);
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  return {
    child,
    log: () => stderr,
    async rssKiB() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
