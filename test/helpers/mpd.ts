import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MpdConnection } from '../../agent/signals/mpd/client.js';
import { firstValue } from '../../agent/signals/mpd/protocol.js';
import { stopProcess } from '../../common/stopProcess.js';
import { freePort } from '../../deploy/mosquittoProcess.js';

/**
 * A real MPD (Debian's `mpd`, installed by .ci/run) for tests: its own folder with a music directory,
 * database and state file, a null audio output (which still plays in real time), one loopback port,
 * no daemon. Tracks are short spoken "chapters" from espeak-ng, converted by sox to FLAC and tagged
 * with metaflac (sox cannot write every tag). The test drives MPD with MPD's own commands.
 */
const run = promisify(execFile);

interface T {
  teardown(fn: () => unknown): void;
}

export interface AudiobookSpec {
  /** Folder under the music directory. */
  folder: string;
  album?: string;
  albumArtist?: string;
  artist?: string;
  chapters: number;
  /** Seconds per chapter. */
  seconds: number;
}

/** Writes spoken, tagged FLAC chapters into `musicDir/folder`. */
export async function writeAudiobook(musicDir: string, spec: AudiobookSpec): Promise<void> {
  const dir = join(musicDir, spec.folder);
  await mkdir(dir, { recursive: true });
  for (let i = 1; i <= spec.chapters; i++) {
    const wav = join(dir, `ch${i}.wav`);
    const flac = join(dir, `${String(i).padStart(2, '0')}.flac`);
    await run('espeak-ng', ['-w', wav, `Chapter ${i}.`]);
    // Padded with silence, then cut: every chapter lasts exactly `seconds`.
    await run('sox', ['-V1', wav, flac, 'pad', '0', String(spec.seconds), 'trim', '0', String(spec.seconds)]);
    await rm(wav);
    const tags = [
      ['ALBUM', spec.album],
      ['ALBUMARTIST', spec.albumArtist],
      ['ARTIST', spec.artist],
      ['TITLE', `Chapter ${i}`],
      ['TRACKNUMBER', String(i)],
    ].filter((tag): tag is [string, string] => tag[1] !== undefined);
    await run('metaflac', ['--remove-all-tags', ...tags.map(([k, v]) => `--set-tag=${k}=${v}`), flac]);
  }
}

export interface MpdServer {
  port: number;
  /** host:port, as signals.mpd takes it. */
  address: string;
  musicDir: string;
  log(): Promise<string>;
  /** One command on a fresh connection (with the password when there is one). */
  command(name: string, args?: string[]): Promise<{ key: string; value: string }[]>;
  /** Rescans the music folder and waits until the scan is done. */
  update(): Promise<void>;
  /** SIGTERM (MPD saves its state file) and start again on the same port: playback resumes. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMpd(
  t: T,
  options: { password?: string; prepare?: (musicDir: string) => Promise<void> } = {},
): Promise<MpdServer> {
  // Its own folder, removed only after mpd has exited (it writes its state file and log on SIGTERM).
  const dir = await mkdtemp(join(tmpdir(), 'bookrec-mpd-'));
  const musicDir = join(dir, 'music');
  await mkdir(musicDir, { recursive: true });
  await options.prepare?.(musicDir);
  const port = await freePort();
  const conf = join(dir, 'mpd.conf');
  await writeFile(
    conf,
    [
      `music_directory "${musicDir}"`,
      `db_file "${join(dir, 'database')}"`,
      `state_file "${join(dir, 'state')}"`,
      `log_file "${join(dir, 'log')}"`,
      'bind_to_address "127.0.0.1"',
      `port "${port}"`,
      'auto_update "no"',
      'zeroconf_enabled "no"',
      'restore_paused "no"',
      ...(options.password
        ? [`password "${options.password}@read,add,control,admin"`, 'default_permissions ""']
        : []),
      'audio_output {',
      '  type "null"',
      '  name "null"',
      '}',
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  const launch = async () => {
    const proc = spawn('mpd', ['--no-daemon', conf], { stdio: 'ignore' });
    child = proc;
    let spawnError: Error | undefined;
    proc.on('error', (err) => {
      spawnError = err;
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (spawnError)
        throw new Error(`mpd could not be started (apt-get install mpd): ${spawnError.message}`);
      if (proc.exitCode !== null) throw new Error(`mpd exited (${proc.exitCode}): ${await readLog()}`);
      try {
        (await open()).close();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`mpd did not answer on ${port}: ${err}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  };
  const stopChild = async () => {
    const proc = child;
    child = undefined;
    await stopProcess(proc);
  };
  const readLog = () => readFile(join(dir, 'log'), 'utf8').catch(() => '');
  const open = () =>
    MpdConnection.open({
      address: { host: '127.0.0.1', port },
      password: options.password ?? '',
      timeoutMs: 5000,
      maxLineBytes: 64 * 1024,
      maxResponseBytes: 1024 * 1024,
    });
  const command = async (name: string, args: string[] = []) => {
    const conn = await open();
    try {
      return await conn.command(name, args);
    } finally {
      conn.close();
    }
  };
  t.teardown(async () => {
    await stopChild();
    await rm(dir, { recursive: true, force: true });
  });
  await launch();
  return {
    port,
    address: `127.0.0.1:${port}`,
    musicDir,
    log: readLog,
    command,
    async update() {
      await command('update');
      const deadline = Date.now() + 20_000;
      while (firstValue(await command('status'), 'updating_db') !== undefined) {
        if (Date.now() > deadline) throw new Error('the MPD database update did not finish');
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async restart() {
      await stopChild();
      await launch();
    },
    stop: stopChild,
  };
}
