import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';

/**
 * What the Debian package ships: the project's files the agent's entry loads (the device path, from
 * dist/agent, dist/common, dist/cli), the npm packages those import, then everything they depend on, resolved in
 * package-lock.json the way Node resolves it (nearest node_modules first). So the package holds the
 * production dependencies the agent uses and nothing else: no trainer packages, no dev tools, no
 * tfjs-node (the optional backend is imported through a variable name and never installed here).
 */

/** Left out on purpose, with the reason (the agent says so at run time when asked for it). */
export const LEFT_OUT: Record<string, string> = {
  onoff: 'its native module epoll is built per architecture and Node ABI; GPIO uses gpiomon (package gpiod)',
};

interface LockEntry {
  version?: string;
  license?: string;
  dev?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

export interface NpmPackage {
  name: string;
  /** Path inside the project, e.g. node_modules/mqtt or node_modules/a/node_modules/b. */
  path: string;
  version: string;
  license: string;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)'([^']+)'/g;

/** The specifiers the files import (`from 'x'`, `import('x')`, `import 'x'`), as written. */
function specifiers(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((m) => m[1]);
}

/**
 * The project's own files the entries load, following relative imports (static and dynamic: the CLI
 * loads each command when it is asked for). A file outside `shipped` is not followed: the CLI's other
 * commands (train, publish, ...) stay behind their dynamic import, never loaded by the agent.
 */
export function reachableFiles(entries: string[], shipped: (file: string) => boolean): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || !shipped(file) || !existsSync(file)) return;
    seen.add(file);
    for (const spec of specifiers(file)) if (spec.startsWith('.')) visit(resolvePath(dirname(file), spec));
  };
  for (const entry of entries) visit(entry);
  return [...seen].sort();
}

/** The package names the files import, without node: builtins. */
export function bareImports(files: string[]): Set<string> {
  const names = new Set<string>();
  for (const file of files) {
    for (const spec of specifiers(file)) {
      if (spec.startsWith('node:') || spec.startsWith('.') || spec.startsWith('/')) continue;
      const parts = spec.split('/');
      names.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
    }
  }
  return names;
}

/** Where Node finds `name` required from the package at `from` ('' for the project): nearest first. */
function resolve(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut < 0 ? '' : base.slice(0, cut);
  }
}

/**
 * The closure of `roots` in the lock file. A required dependency that the lock does not have is an
 * error (the package would not run); a missing optional or peer dependency is not installed by npm
 * either, and is skipped.
 */
export function dependencyClosure(projectDir: string, roots: Iterable<string>): NpmPackage[] {
  const lock = JSON.parse(readFileSync(join(projectDir, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const packages = lock.packages;
  const found = new Map<string, NpmPackage>();
  const visit = (from: string, name: string, required: boolean) => {
    const path = resolve(packages, from, name);
    if (!path) {
      if (required) throw new Error(`${name} (needed by ${from || 'the agent'}) is not in package-lock.json`);
      return;
    }
    if (found.has(path)) return;
    const entry = packages[path];
    if (entry.dev && !required) return;
    if (entry.dev)
      throw new Error(`${name} is a dev dependency, but ${from || 'the agent'} needs it at run time`);
    found.set(path, { name, path, version: entry.version ?? '?', license: entry.license ?? 'see its files' });
    for (const dep of Object.keys(entry.dependencies ?? {})) visit(path, dep, true);
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) visit(path, dep, false);
    for (const dep of Object.keys(entry.peerDependencies ?? {})) visit(path, dep, false);
  };
  for (const root of roots) visit('', root, true);
  return [...found.values()].sort((a, b) => a.path.localeCompare(b.path));
}
