import { readFileSync } from 'node:fs';
import { link, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BookrecError } from '../common/errors.js';

/**
 * One agent per state dir. Two agents on one state dir (an operator trying `sudo -u bookrec
 * bookrec-agent` beside the service) share the device's MQTT session and write the same history; the
 * second one's exit unsubscribed the session the first was using. The lock is a file created with
 * O_EXCL holding the owner's pid, boot id and process start time: it is stale, and taken over, when that
 * process is gone, also after a power cut (another boot) or when the pid now belongs to another process
 * (another start time), so a SIGKILLed agent never locks its successor out. Node has no flock().
 */
export const LOCK_FILE = 'agent.lock';

interface Owner {
  pid: number;
  /** /proc/sys/kernel/random/boot_id (Linux; empty elsewhere). */
  boot: string;
  /** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot (Linux). */
  start: string;
}

export interface StateLock {
  readonly file: string;
  /** Removes the lock file (only while it is still this process's). */
  release(): Promise<void>;
}

/** Takes the state dir's lock, or throws STATE_DIR_LOCKED naming the pid that holds it. */
export async function lockStateDir(dir: string, self: Owner = ownerOf(process.pid)): Promise<StateLock> {
  const file = join(dir, LOCK_FILE);
  const text = JSON.stringify(self);
  // A few rounds: a stale lock is moved aside and creation tried again; a racing agent may win it.
  for (let round = 0; round < 5; round++) {
    if (await create(file, text)) {
      return {
        file,
        release: async () => {
          const now = await readFile(file, 'utf8').catch(() => '');
          if (now === text) await rm(file, { force: true });
        },
      };
    }
    const held = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw new BookrecError('STATE_DIR_LOCKED', `${file}: ${err.code ?? err.message}`);
    });
    if (held === undefined) continue;
    const owner = parseOwner(held);
    if (owner && alive(owner)) {
      throw new BookrecError(
        'STATE_DIR_LOCKED',
        `the state dir ${dir} is in use by another agent (pid ${owner.pid}): stop it first (sudo systemctl stop bookrec-agent), or give this one its own --state-dir and --device-id`,
      );
    }
    await takeAside(file, held);
  }
  throw new BookrecError('STATE_DIR_LOCKED', `${file}: could not take the lock (agents starting at once?)`);
}

/** The pid holding the state dir's lock, when a live process does (for --check-config's summary). */
export async function lockHolder(dir: string): Promise<number | undefined> {
  const held = await readFile(join(dir, LOCK_FILE), 'utf8').catch(() => undefined);
  const owner = held === undefined ? undefined : parseOwner(held);
  return owner && alive(owner) ? owner.pid : undefined;
}

async function create(file: string, text: string): Promise<boolean> {
  try {
    const handle = await open(file, 'wx', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new BookrecError('STATE_DIR_LOCKED', `${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

/**
 * Moves a stale lock aside. Another agent may have replaced it in between (taken it over itself): what
 * was moved is checked, and a lock that is not the stale one is put back (link fails if a third one is
 * there already, which then holds the dir).
 */
async function takeAside(file: string, stale: string): Promise<void> {
  const aside = `${file}.stale-${process.pid}`;
  try {
    await rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = await readFile(aside, 'utf8').catch(() => stale);
  if (moved !== stale) await link(aside, file).catch(() => undefined);
  await rm(aside, { force: true });
}

function parseOwner(text: string): Owner | undefined {
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    if (!Number.isInteger(o.pid) || (o.pid as number) <= 0) return undefined;
    return { pid: o.pid as number, boot: String(o.boot ?? ''), start: String(o.start ?? '') };
  } catch {
    // A lock cut short by a crash while it was written: nobody holds it.
    return undefined;
  }
}

/** Whether the process that wrote `owner` still runs. */
function alive(owner: Owner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: it exists, as another user's process; only ESRCH says it is gone.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const now = ownerOf(owner.pid);
  // Another boot, or the pid reused by a younger process: the writer is gone. Off Linux: the pid only.
  if (owner.boot && now.boot && owner.boot !== now.boot) return false;
  if (owner.start && now.start && owner.start !== now.start) return false;
  return true;
}

/** pid, boot id and start time of a process (the last two empty where /proc does not tell). */
export function ownerOf(pid: number): Owner {
  return { pid, boot: readProc('/proc/sys/kernel/random/boot_id').trim(), start: startTime(pid) };
}

function startTime(pid: number): string {
  const stat = readProc(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[19] ?? '';
}

function readProc(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
