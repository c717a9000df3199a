import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { BookrecError } from '../common/errors.js';
import { assertName } from '../common/protocol/topics.js';
import { stopProcess } from '../common/stopProcess.js';

/**
 * Runs a real mosquitto on a free loopback port with the project's production configuration
 * (deploy/mosquitto/mosquitto.conf minus its TLS listener and file paths) and ACL, for integration
 * tests and benchmarks. TLS is left to the production config; everything else is the same.
 */

const run = promisify(execFile);
const BINARIES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'];
/** Production lines replaced here: the listener/TLS block, file paths, logging. */
const REPLACED =
  /^(listener|protocol|cafile|certfile|keyfile|tls_version|require_certificate|password_file|acl_file|persistence_location|log_dest|log_type|pid_file|user)\b/;
const LOG_LIMIT = 64 * 1024;

export interface MosquittoOptions {
  /** Username -> password; written with mosquitto_passwd. */
  users: Record<string, string>;
  /** Folder with mosquitto.conf and acl (default: this project's deploy/mosquitto). */
  configDir?: string;
  /** Extra configuration lines (e.g. a bridge), appended. */
  extra?: string[];
  /** Extra ACL lines (e.g. edge sites from siteAcl), appended to the folder's acl. */
  aclExtra?: string[];
  /** Keep retained messages across restarts (default true, as in production). */
  persistence?: boolean;
}

export interface MosquittoBroker {
  port: number;
  url: string;
  /** The folder holding its config, password file and persistence. */
  dir: string;
  pid(): number | undefined;
  /** Resident and peak resident memory of the broker process, KiB (Linux /proc). */
  memoryKiB(): Promise<{ rss: number; peak: number }>;
  /** The broker's recent log output. */
  log(): string;
  /** Stops (SIGTERM, which saves persistence) and starts again on the same port. */
  restart(): Promise<void>;
  /** kill -9 (nothing saved but what autosave wrote), then starts again on the same port; ms down. */
  crashAndRestart(): Promise<number>;
  /** Stops the broker and removes its folder. */
  stop(): Promise<void>;
}

export function mosquittoBinary(): string {
  const found = BINARIES.find((b) => existsSync(b));
  if (!found) {
    throw new BookrecError(
      'MOSQUITTO_MISSING',
      'mosquitto is not installed (apt-get install mosquitto mosquitto-clients; .ci/run does it in CI)',
    );
  }
  return found;
}

/** The project's configuration folder, found from this file in the source tree or in dist/. */
export function defaultConfigDir(): string {
  const here = new URL('.', import.meta.url).pathname;
  for (const dir of [join(here, 'mosquitto'), join(here, '../../deploy/mosquitto')]) {
    if (existsSync(join(dir, 'acl'))) return resolve(dir);
  }
  throw new BookrecError('CONFIG_FILE', `deploy/mosquitto not found from ${here}`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export async function startMosquitto(options: MosquittoOptions): Promise<MosquittoBroker> {
  const binary = mosquittoBinary();
  const configDir = options.configDir ?? defaultConfigDir();
  const dir = await mkdtemp(join(tmpdir(), 'bookrec-mosquitto-'));
  const passwd = join(dir, 'passwd');
  // One plain user:password file hashed in place (-U): one process however many users.
  const plain = Object.entries(options.users).map(([user, password]) => `${user}:${password}\n`);
  await writeFile(passwd, plain.join(''), { mode: 0o600 });
  await run('mosquitto_passwd', ['-U', passwd]);
  const production = (await readFile(join(configDir, 'mosquitto.conf'), 'utf8'))
    .split('\n')
    .filter((line) => !REPLACED.test(line.trim()));
  const acl = join(dir, 'acl');
  const aclText = await readFile(join(configDir, 'acl'), 'utf8');
  await writeFile(acl, [aclText, ...(options.aclExtra ?? []), ''].join('\n'));
  let port = await freePort();
  const conf = (p: number) =>
    [
      ...production,
      '# test overrides',
      // Running as root, mosquitto would switch to the mosquitto user and lose access to this folder.
      'user root',
      `password_file ${passwd}`,
      `acl_file ${acl}`,
      `persistence ${options.persistence === false ? 'false' : 'true'}`,
      `persistence_location ${dir}/`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      `listener ${p} 127.0.0.1`,
      ...(options.extra ?? []),
      '',
    ].join('\n');

  let child: ChildProcess | undefined;
  let log = '';
  const launch = async () => {
    await writeFile(join(dir, 'mosquitto.conf'), conf(port));
    const proc = spawn(binary, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    proc.stderr?.on('data', (data: Buffer) => {
      log = (log + data.toString()).slice(-LOG_LIMIT);
    });
    await waitListening(proc, port, () => log);
  };
  // Another process may take the free port between finding it and mosquitto binding it: try again.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      if (attempt >= 3 || !/in use/i.test(log)) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
      port = await freePort();
    }
  }

  const stopChild = async () => {
    const proc = child;
    child = undefined;
    await stopProcess(proc);
  };

  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    pid: () => child?.pid,
    async memoryKiB() {
      const status = await readFile(`/proc/${child?.pid}/status`, 'utf8');
      const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
      return { rss: field('VmRSS'), peak: field('VmHWM') };
    },
    log: () => log,
    async restart() {
      await stopChild();
      await launch();
    },
    async crashAndRestart() {
      const proc = child;
      const started = Date.now();
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise<void>((done) => proc.once('exit', () => done()));
        proc.kill('SIGKILL');
        await exited;
      }
      child = undefined;
      await launch();
      return Date.now() - started;
    },
    async stop() {
      await stopChild();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The shipped edge bridge (deploy/mosquitto/bridge.conf) pointed at a core broker on loopback as one
 * site's user, its TLS lines left out: the lines to pass as `extra` to the edge broker.
 */
export async function loopbackBridge(
  corePort: number,
  site: { username: string; password: string },
): Promise<string[]> {
  const text = await readFile(join(defaultConfigDir(), 'bridge.conf'), 'utf8');
  return text
    .split('\n')
    .filter(
      (line) =>
        line.trim() !== '' && !line.startsWith('#') && !/^bridge_(cafile|tls_version|insecure)/.test(line),
    )
    .map((line) => {
      if (line.startsWith('address ')) return `address 127.0.0.1:${corePort}`;
      if (line.startsWith('remote_username ')) return `remote_username ${site.username}`;
      if (line.startsWith('remote_password ')) return `remote_password ${site.password}`;
      return line;
    });
}

/**
 * One edge site's lines for the core's ACL, from the template in the shipped acl ("#site" and "#device"
 * lines), so tests and benchmarks run exactly what docs/protocol.md tells operators to append.
 */
export async function siteAcl(site: string, deviceIds: string[]): Promise<string[]> {
  for (const name of [site, ...deviceIds]) assertName('device id', name);
  const template = (await readFile(join(defaultConfigDir(), 'acl'), 'utf8')).split('\n');
  const lines = (tag: string) =>
    template.filter((l) => l.startsWith(`#${tag} `)).map((l) => l.slice(tag.length + 2));
  const [user] = lines('site');
  const device = lines('device');
  if (!user || device.length === 0) {
    throw new BookrecError('CONFIG_FILE', 'deploy/mosquitto/acl has no "#site"/"#device" template lines');
  }
  return [
    user.replaceAll('SITE', site),
    ...deviceIds.flatMap((id) => device.map((l) => l.replaceAll('DEVICE', id))),
  ];
}

/** Resolves once the port accepts connections; rejects with the broker's log if it exits first. */
async function waitListening(proc: ChildProcess, port: number, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new BookrecError(
        'MOSQUITTO_START',
        `mosquitto exited (${proc.exitCode ?? proc.signalCode}): ${log()}`,
      );
    }
    const ok = await new Promise<boolean>((done) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  proc.kill('SIGKILL');
  throw new BookrecError('MOSQUITTO_START', `mosquitto did not listen on ${port} within 10 s: ${log()}`);
}
