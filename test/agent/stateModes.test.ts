import { chmod, lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { useBackend } from '../../common/model/backend.js';
import { testKey } from '../helpers/release.js';
import { serviceDir } from '../helpers/serviceDir.js';
import { agentBroker, publishPackage, startAgent } from './harness.js';
import { makePackage, waitFor } from './helpers.js';

/**
 * Outside systemd (no UMask=0077, no StateDirectoryMode=0700), with the usual umask 0022 and a state
 * dir an older version left 0755 with a 0644 history: after the agent has run (a release installed, a
 * signal file followed, a recommendation spoken to a WAV, counters and update reports saved), every
 * folder under the state dir is 0700 and every file 0600. Before: the state dir 0755, history 0644.
 */
const signer = testKey();
t.before(() => useBackend('wasm'));

async function modes(root: string): Promise<{ path: string; mode: number; dir: boolean }[]> {
  const out: { path: string; mode: number; dir: boolean }[] = [];
  const walk = async (path: string) => {
    const info = await lstat(path);
    if (info.isSymbolicLink()) return;
    out.push({ path: path.slice(root.length) || '/', mode: info.mode & 0o777, dir: info.isDirectory() });
    if (info.isDirectory()) for (const name of await readdir(path)) await walk(join(path, name));
  };
  await walk(root);
  return out;
}

t.test('state dir 0700 and every file in it 0600, whatever the umask', async (t) => {
  const old = process.umask(0o022);
  t.teardown(() => void process.umask(old));
  const dir = await serviceDir(t);
  const stateDir = join(dir, 'state');
  await mkdir(stateDir, { mode: 0o755 });
  await chmod(stateDir, 0o755);
  await writeFile(join(stateDir, 'history.log'), '', { mode: 0o644 });
  // What a SIGKILL during a history compaction leaves (writeFileAtomic's temp file): removed at start.
  await writeFile(join(stateDir, 'history.json.4242.deadbeef.tmp'), '{"format":1', { mode: 0o644 });
  const signals = join(dir, 'player.jsonl');
  await writeFile(signals, '');
  const broker = await agentBroker(t);
  const agent = await startAgent(t, stateDir, broker.url, signer, [
    '--signals-file',
    signals,
    '--signals-poll-ms',
    '50',
    '--tts',
    'espeak-ng',
    '--quality-publish-seconds',
    '1',
  ]);
  const pkg = await makePackage(join(dir, 'pkg'), { n: 40, seed: 2 });
  await publishPackage(t, broker.url, signer, pkg.dir, 1);
  await waitFor('installed', () => agent.service.store.current?.release.version === 1);
  const book = pkg.catalogue[3].id;
  await writeFile(signals, `${JSON.stringify({ bookId: book, kind: 'finished' })}\n`, { flag: 'a' });
  await waitFor('the signal stored', () => agent.service.history.size === 1);
  const r = await agent.service.responder.trigger('button');
  await r?.speech;
  await agent.service.stop();

  const all = await modes(stateDir);
  const names = all.map((e) => e.path);
  for (const expected of [
    '/history.log',
    '/signals.pos',
    '/speech/last.wav',
    '/updates.json',
    '/quality.json',
  ])
    t.ok(names.includes(expected), `${expected} was written`);
  t.ok(
    names.some((n) => n.startsWith('/models/1/')),
    'the release was installed',
  );
  t.notOk(names.includes('/history.json.4242.deadbeef.tmp'), "the killed write's temp file was removed");
  const wrong = all.filter((e) => e.mode !== (e.dir ? 0o700 : 0o600));
  t.same(
    wrong.map((e) => `${e.path} ${e.mode.toString(8)}`),
    [],
    `${all.length} entries: folders 0700, files 0600`,
  );
});
