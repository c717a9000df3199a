import { join } from 'node:path';
import t from 'tap';
import { createMemoryLogger } from '../../../common/log.js';
import { useBackend } from '../../../common/model/backend.js';
import { projectVersion } from '../../../common/version.js';
import { PROFILES, prepare } from '../../../trainer/distill/prepare.js';
import {
  obtainTeacher,
  TEACHER_CACHE_VERSION,
  type TeacherKey,
  teacherCacheDir,
  teacherCodeVersion,
} from '../../../trainer/distill/teacherCache.js';

/**
 * The teacher cache's key names the code that made an entry: a teacher cached by other code (another
 * TEACHER_CACHE_VERSION, another release) is a miss and is trained again, never reused.
 */
t.before(async () => {
  await useBackend('wasm');
});

const BOOKS = 12;

function ratings(): string {
  // 200 readers of 12 books, each reading 8: enough held-out readers for prepare's checks.
  const lines = ['user_id,book_id,rating'];
  for (let u = 1; u <= 200; u++)
    for (let k = 0; k < 8; k++) lines.push(`${u},${((u + k * 5) % BOOKS) + 1},4`);
  return `${lines.join('\n')}\n`;
}

async function prepared() {
  const dir = t.testdir({ 'ratings.csv': ratings() });
  const prep = await prepare(dir, 1, PROFILES.quick, createMemoryLogger('info'), { minTestUsers: 1 });
  return { cache: join(dir, 'cache'), prep };
}

// No deep path: the teacher is the calibrated wide path, cheap to "train" and still cached.
const KEY: TeacherKey = { lambda: 10, hidden: [], profile: PROFILES.quick, seed: 1 };
// A made-up wide path: every book linked to the next one.
const WIDE = Float32Array.from({ length: BOOKS * BOOKS }, (_, e) =>
  (Math.floor(e / BOOKS) + 1) % BOOKS === e % BOOKS ? 1 : 0,
);

t.test('the default key carries TEACHER_CACHE_VERSION and the project version', async (t) => {
  const { cache, prep } = await prepared();
  t.equal(teacherCodeVersion(), `${TEACHER_CACHE_VERSION}/${projectVersion()}`);
  const byDefault = teacherCacheDir(cache, prep, KEY);
  t.equal(byDefault, teacherCacheDir(cache, prep, { ...KEY, codeVersion: teacherCodeVersion() }));
  t.not(
    byDefault,
    teacherCacheDir(cache, prep, { ...KEY, codeVersion: `${TEACHER_CACHE_VERSION + 1}/${projectVersion()}` }),
    'a bumped TEACHER_CACHE_VERSION',
  );
  t.not(
    byDefault,
    teacherCacheDir(cache, prep, { ...KEY, codeVersion: `${TEACHER_CACHE_VERSION}/99.0.0` }),
    'another release',
  );
});

t.test('a teacher cached by one code version is reused by it and missed by another', async (t) => {
  const { cache, prep } = await prepared();
  const run = async (codeVersion: string) => {
    const log = createMemoryLogger('info');
    const trained = await obtainTeacher(cache, prep, WIDE, { ...KEY, codeVersion }, log);
    trained.teacher.dispose();
    const messages = log.lines.map((l) => l.msg);
    return {
      fromCache: messages.includes('teacher read from cache'),
      trained: messages.includes('teacher wide path calibrated'),
    };
  };
  t.same(await run('1/0.1.0'), { fromCache: false, trained: true }, 'an empty cache: trained');
  t.same(await run('1/0.1.0'), { fromCache: true, trained: false }, 'the same code: read from the cache');
  t.same(
    await run('2/0.1.0'),
    { fromCache: false, trained: true },
    'another code version: a miss, trained again',
  );
  t.same(await run('1/0.2.0'), { fromCache: false, trained: true }, 'another release: a miss, trained again');
});
