import { join } from 'node:path';
import t from 'tap';
import { bareImports, reachableFiles } from '../../scripts/deb/dependencies.js';
import { bundleOnly, runtimeFile } from '../../scripts/deb/shippedFiles.js';

/**
 * What the Debian package takes from the build and from node_modules (issue 21: it shipped tests,
 * coverage, benchmarks and each tfjs wasm file twice): only what Node loads, and the licenses.
 */
t.test('runtimeFile: code and data ship; tests, docs, maps, types, dev folders do not', async (t) => {
  for (const kept of ['index.js', 'lib/parser.cjs', 'dist/x.wasm', 'package.json', 'LICENSE', 'lib/doc.js'])
    t.ok(runtimeFile(kept), `${kept} ships`);
  for (const dropped of [
    'dist/index.js.map',
    'dist/index.d.ts',
    'README.md',
    'src/index.ts',
    'dist/engine_test.js',
    'lib/a.test.js',
    'lib/a.spec.mjs',
    'test/fixture.js',
    'tests/x.json',
    '__tests__/x.js',
    'docs/api.html',
    'examples/demo.js',
    'coverage/lcov.info',
    'bench/run.js',
    'benchmarks/run.js',
    '.github/workflows/ci.yml',
    'node_modules/x/index.js',
  ])
    t.notOk(runtimeFile(dropped), `${dropped} does not ship`);
});

t.test('bundleOnly: a self-contained Node bundle ships alone, with its wasm and license', async (t) => {
  const dir = t.testdir({
    tfjs: {
      'package.json': JSON.stringify({ main: 'dist/tf.node.js', module: 'dist/index.js' }),
      LICENSE: 'Apache',
      dist: {
        'tf.node.js': "var core = require('@tensorflow/tfjs-core'); var fs = require('fs');",
        'index.js': "export * from './ops.js';",
        'tf.min.js': '',
        'a.wasm': '',
      },
      'wasm-out': { 'a.wasm': '' },
    },
    relative: {
      'package.json': JSON.stringify({ main: 'index.js' }),
      'index.js': "module.exports = require('./lib/a');",
    },
    exported: {
      'package.json': JSON.stringify({ main: 'index.js', exports: { '.': './index.js' } }),
      'index.js': '',
    },
  });
  const keep = bundleOnly(join(dir, 'tfjs'));
  if (!keep) return t.fail('tfjs is one bundle');
  t.same(
    [
      'package.json',
      'LICENSE',
      'dist/tf.node.js',
      'dist/a.wasm',
      'dist/index.js',
      'dist/tf.min.js',
      'wasm-out/a.wasm',
    ].filter(keep),
    ['package.json', 'LICENSE', 'dist/tf.node.js', 'dist/a.wasm'],
    'the bundle, the wasm beside it (once), package.json and the license',
  );
  t.equal(bundleOnly(join(dir, 'relative')), undefined, 'a main that loads its own files: all runtime files');
  t.equal(bundleOnly(join(dir, 'exported')), undefined, 'a package with exports: all runtime files');
});

t.test('reachableFiles: what the entry loads, never the commands outside the shipped folders', async (t) => {
  const dir = t.testdir({
    cli: {
      'entry.js': "import { main } from './main.js';\nimport 'mqtt';",
      'main.js':
        "const load = () => import('../agent/command.js');\nconst train = () => import('../trainer/train.js');",
      'cliDoc.js': "import 'typescript';",
    },
    agent: { 'command.js': "export { x } from '../common/x.js';", 'unused.js': '' },
    common: { 'x.js': "import * as tf from '@tensorflow/tfjs-core';" },
    trainer: { 'train.js': "import 'csv-parse';" },
  });
  const shipped = (f: string) => !f.startsWith(join(dir, 'trainer'));
  const files = reachableFiles([join(dir, 'cli', 'entry.js')], shipped);
  t.same(
    files.map((f) => f.slice(dir.length + 1)),
    ['agent/command.js', 'cli/entry.js', 'cli/main.js', 'common/x.js'],
  );
  t.same([...bareImports(files)].sort(), ['@tensorflow/tfjs-core', 'mqtt'], 'no trainer-only package');
});
