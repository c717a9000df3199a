import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { logStyle, onJournal } from '../../cli/host.js';

/** JOURNAL_STREAM as systemd sets it for a stream: `device:inode`. */
const journalStream = (fd: number) => {
  const st = fstatSync(fd, { bigint: true });
  return `${st.dev}:${st.ino}`;
};

t.test('journal detection compares JOURNAL_STREAM with the stream itself', async (t) => {
  const fd = openSync(join(t.testdir(), 'stderr.log'), 'w');
  t.teardown(() => closeSync(fd));
  t.ok(onJournal({ JOURNAL_STREAM: journalStream(fd) }, fd));
  t.notOk(onJournal({}, fd), 'no variable');
  t.notOk(onJournal({ JOURNAL_STREAM: '1:2' }, fd), 'a stream redirected elsewhere keeps the variable');
  t.notOk(onJournal({ JOURNAL_STREAM: 'garbage' }, fd));
  t.same(logStyle({}, { isTTY: true, fd }), { format: 'text', priorities: false }, 'a terminal: text');
  t.same(logStyle({}, { isTTY: false, fd }), { format: 'json', priorities: false }, 'a pipe or file: JSON');
  t.same(logStyle({ JOURNAL_STREAM: journalStream(fd) }, { isTTY: false, fd }), {
    format: 'json',
    priorities: true,
  });
});

/** Runs the built CLI with stderr going to a file, as systemd hands a service its stream. */
async function stderrOf(dir: string, args: string[], journal: boolean): Promise<string[]> {
  const file = join(dir, 'stderr.log');
  const fd = openSync(file, 'w');
  try {
    const env = { PATH: process.env.PATH, ...(journal ? { JOURNAL_STREAM: journalStream(fd) } : {}) };
    const child = spawn(process.execPath, ['dist/cli/bookrec.js', ...args], {
      env,
      stdio: ['ignore', 'ignore', fd],
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    if (code !== 0)
      throw new Error(`bookrec ${args.join(' ')} exited ${code}: ${readFileSync(file, 'utf8')}`);
    return readFileSync(file, 'utf8').trim().split('\n');
  } finally {
    closeSync(fd);
  }
}

t.test(
  'the real process: JSON lines to a file, with <N> priorities when the file is its journal stream',
  async (t) => {
    const dir = t.testdir();
    const plain = await stderrOf(
      dir,
      ['keys', '--key-file', join(dir, 'a.pem'), '--log-level', 'debug'],
      false,
    );
    t.match(JSON.parse(plain[0]), { level: 'info', msg: 'key pair written' });
    const journal = await stderrOf(dir, ['keys', '--key-file', join(dir, 'b.pem')], true);
    t.match(journal[0], /^<6>\{"time":".*","level":"info","ns":"bookrec","msg":"key pair written"/);
    const quiet = await stderrOf(
      dir,
      ['keys', '--key-file', join(dir, 'c.pem'), '--log-level', 'warn'],
      true,
    );
    t.same(quiet, [''], '--log-level warn keeps the info line out');
  },
);
