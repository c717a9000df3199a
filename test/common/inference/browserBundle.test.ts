import { webcrypto } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { build } from 'esbuild';
import t from 'tap';
import * as Core from '../../../common/inference/index.js';
import { nodePackageSource } from '../../../common/inference/nodePackageSource.js';
import { openModel } from '../../../common/inference/openModel.js';
import { rank } from '../../../common/inference/ranking.js';
import { useBackend } from '../../../common/model/backend.js';
import { writePackage } from '../../../common/model/modelPackage.js';
import { parts } from '../../helpers/packageFixture.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const bundle = (entry: string) =>
  build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'bookrecCore',
    target: 'es2020',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });

t.test('the inference core bundles for the browser with no Node built-in and no tfjs', async (t) => {
  const result = await bundle('common/inference/index.ts');
  const inputs = Object.keys(result.metafile.inputs);
  t.same(
    inputs.filter((i) => i.startsWith('node:') || i.includes('@tensorflow') || i.includes('node_modules')),
    [],
    'only the project’s own code is in the bundle',
  );
  t.ok(inputs.includes('common/inference/ranking.ts'), 'the ranking is in it');
  t.comment(`bundle: ${result.outputFiles[0].contents.length} bytes from ${inputs.length} files`);
});

t.test('the same check fails on code that needs Node', async (t) => {
  await t.rejects(bundle('common/inference/nodePackageSource.ts'), /node:crypto|node:fs/);
});

t.test('bundled and run where only browser APIs exist, it ranks as the Node build does', async (t) => {
  await useBackend('cpu');
  const dir = join(t.testdir(), 'pkg');
  const p = parts('m', 5, 0);
  await writePackage(dir, p);
  p.model.dispose();
  const files = new Map<string, Uint8Array>();
  for (const name of await readdir(dir)) files.set(name, new Uint8Array(await readFile(join(dir, name))));

  const code = (await bundle('common/inference/index.ts')).outputFiles[0].text;
  // A context with what a browser has (no require, process, Buffer or fs).
  const browser = vm.createContext({ TextDecoder, TextEncoder, crypto: webcrypto });
  vm.runInContext(code, browser);
  const core = browser.bookrecCore as typeof Core;
  t.equal(typeof (browser as { process?: unknown }).process, 'undefined', 'no Node globals in there');
  t.same(Object.keys(core).sort(), Object.keys(Core).sort(), 'the bundle exposes the core’s API');

  const inBrowser = await core.openModel(core.bytesPackageSource('phone', files));
  core.selfTest(inBrowser);
  t.equal(inBrowser.engine.kind, 'sparse-js');
  const history = [
    { bookId: p.catalogue[4].id, kind: 'finished' as const, at: Date.UTC(2026, 0, 1) },
    { bookId: p.catalogue[9].id, kind: 'liked' as const, at: Date.UTC(2026, 0, 2) },
  ];
  const options = { count: 5, now: new Date(Date.UTC(2026, 0, 3)) };
  const there = core.rank(inBrowser, history, options);
  const here = rank(await openModel(nodePackageSource(dir)), history, options);
  t.same(
    JSON.parse(JSON.stringify(there)),
    JSON.parse(JSON.stringify(here)),
    'the same books, scores and reason',
  );
  t.equal(there.books.length, 5);
  t.match(core.sentenceFor(there), /you might enjoy/);

  const tampered = new Map(files);
  const weights = Uint8Array.from(files.get('weights.bin')!);
  weights[0] ^= 1;
  tampered.set('weights.bin', weights);
  await t.rejects(
    core.openModel(core.bytesPackageSource('phone', tampered)),
    /weights.bin: sha256 .* does not match/,
  );
});
