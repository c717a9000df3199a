import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

/**
 * Which files of a bundled npm package the Debian package ships: what Node can load on the device, and the
 * license. Left out: source maps, type declarations, TypeScript sources, docs and dotfiles; the
 * package's tests, specs, examples, coverage and benchmarks (folders and *_test.js / *.test.js files);
 * and, for a package whose Node entry (`main`, no `exports`) is one self-contained bundle, every other
 * build of it (the ES module tree, browser and minified bundles: tfjs ships five builds of each package,
 * and its wasm files twice, once beside the bundle that loads them and once in wasm-out/).
 */
const NOT_LOADED = /\.(map|ts|mts|cts|md|markdown)$/i;
const TEST_FILE = /(_test|\.test|\.spec|_spec)\.[cm]?js$/;
const DEV_FOLDERS = new Set([
  'node_modules',
  'test',
  'tests',
  '__tests__',
  'spec',
  'specs',
  'doc',
  'docs',
  'example',
  'examples',
  'coverage',
  'bench',
  'benchmark',
  'benchmarks',
]);
const LICENSE = /^(licen[cs]e|copying|notice)/i;

/** A file (path relative to its package) Node may load, or the package's license: kept. */
export function runtimeFile(rel: string): boolean {
  const parts = rel.split('/');
  return (
    !NOT_LOADED.test(rel) &&
    !TEST_FILE.test(rel) &&
    !parts.some((part) => part.startsWith('.') || DEV_FOLDERS.has(part.toLowerCase()))
  );
}

/** Paths (relative to the package) a relative require()/import in `code` names. */
const RELATIVE_LOAD = /(?:\brequire\s*\(\s*|\bfrom\s*|\bimport\s*\(\s*)['"](\.{1,2}\/[^'"]*)['"]/;

/**
 * When the package's Node entry is one bundle that loads no file of its own package: the files Node
 * needs (the bundle, package.json, the wasm files beside the bundle, which it reads from its own folder)
 * plus the license. Undefined for any other package: all its runtime files ship.
 */
export function bundleOnly(packageDir: string): ((rel: string) => boolean) | undefined {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    main?: string;
    exports?: unknown;
  };
  if (manifest.exports !== undefined || typeof manifest.main !== 'string') return undefined;
  const main = normalize(manifest.main);
  if (!main.endsWith('.js') || !existsSync(join(packageDir, main))) return undefined;
  if (RELATIVE_LOAD.test(readFileSync(join(packageDir, main), 'utf8'))) return undefined;
  const folder = dirname(main);
  return (rel) =>
    rel === main ||
    rel === 'package.json' ||
    (!rel.includes('/') && LICENSE.test(rel)) ||
    (dirname(rel) === folder && rel.endsWith('.wasm'));
}
