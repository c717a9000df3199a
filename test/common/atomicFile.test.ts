import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { writeFileAtomic } from '../../common/atomicFile.js';

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
