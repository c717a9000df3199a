import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, watch } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { removeAtomicLeftovers, writeFileAtomic } from '../../common/atomicFile.js';

t.test('writes, replaces, creates folders and leaves no temp files', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'a', 'b', 'x.json');
  await writeFileAtomic(file, 'one');
  await writeFileAtomic(file, 'two', 0o600);
  t.equal(readFileSync(file, 'utf8'), 'two');
  t.equal(statSync(file).mode & 0o777, 0o600);
  t.same(readdirSync(join(dir, 'a', 'b')), ['x.json']);
});

t.test('a failed write leaves the old content and no temp file', async (t) => {
  const dir = t.testdir({ 'x.txt': 'old', sub: {} });
  // Renaming a file over a folder fails: the old folder stays, the temp file is removed.
  await t.rejects(writeFileAtomic(join(dir, 'sub'), 'new'));
  t.same(readdirSync(dir).sort(), ['sub', 'x.txt']);
  t.equal(readFileSync(join(dir, 'x.txt'), 'utf8'), 'old');
});

t.test(
  'a writer SIGKILLed mid-write leaves its temp file; removeAtomicLeftovers takes only those',
  async (t) => {
    const dir = t.testdir({ 'notes.tmp': 'a person left this', 'x.json.1.zzzzzzzz.tmp': 'not our pattern' });
    const target = join(dir, 'x.json');
    // A real process writing the file over and over (the built module: npm test builds first), killed the
    // moment its temp file appears: the rename and the cleanup in the catch never run.
    const module = pathToFileURL(resolve('dist/common/atomicFile.js')).href;
    const script = `const { writeFileAtomic } = await import(${JSON.stringify(module)});
const data = Buffer.alloc(8 << 20, 7);
for (;;) await writeFileAtomic(${JSON.stringify(target)}, data);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const watcher = watch(dir, (_event, name) => {
      if (name && /^x\.json\.\d+\.[0-9a-f]{8}\.tmp$/.test(name)) child.kill('SIGKILL');
    });
    t.teardown(() => {
      watcher.close();
      child.kill('SIGKILL');
    });
    await exited;
    watcher.close();
    const left = readdirSync(dir).filter((n) => /^x\.json\.\d+\.[0-9a-f]{8}\.tmp$/.test(n));
    t.equal(left.length, 1, `the killed write left its temp file (${readdirSync(dir).join(', ')})`);
    t.same(await removeAtomicLeftovers(dir), left, 'the leftover is named');
    const after = readdirSync(dir).sort();
    t.notOk(
      after.some((n) => left.includes(n)),
      'and removed',
    );
    t.ok(after.includes('notes.tmp') && after.includes('x.json.1.zzzzzzzz.tmp'), 'other files stay');
    t.same(await removeAtomicLeftovers(join(dir, 'missing')), [], 'a missing folder: nothing to do');
  },
);
