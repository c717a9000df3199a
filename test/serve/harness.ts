import type { KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createMemoryLogger } from '../../common/log.js';
import { useBackend } from '../../common/model/backend.js';
import { writePackage } from '../../common/model/modelPackage.js';
import { DEFAULT_LIMITS, MANIFEST_FORMAT, type SignedManifest } from '../../common/protocol/manifest.js';
import { signManifest } from '../../common/protocol/signing.js';
import { readPackage } from '../../deploy/packageFiles.js';
import { serveConfig } from '../../serve/config.js';
import { ServeService, type ServiceContext } from '../../serve/service.js';
import { parts } from '../helpers/packageFixture.js';

/** A folder that never exists: tests of the API run without the built pages. */
const NO_PAGES = '/nonexistent/bookrec-pages';

interface TestLike {
  testdir(): string;
  teardown(fn: () => unknown): void;
}

const roots = new WeakMap<TestLike, string>();

/** The test's folder, made once (t.testdir() empties it on every call). */
export function testRoot(t: TestLike): string {
  let root = roots.get(t);
  if (!root) {
    root = t.testdir();
    roots.set(t, root);
  }
  return root;
}

/** A fixture package (60 books) written into the test's folder: the sparse student, or with `hidden` a dense path. */
export async function fixturePackage(t: TestLike, name = 'pkg', seed = 5, hidden = 0): Promise<string> {
  await useBackend('cpu');
  const dir = join(testRoot(t), name);
  const p = parts(`m${seed}`, seed, hidden);
  await writePackage(dir, p);
  p.model.dispose();
  return dir;
}

/** `bookrec serve` in-process on a free port with the given flags, stopped when the test ends. */
export async function startServe(
  t: TestLike,
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  extra: Partial<ServiceContext> = {},
): Promise<{ service: ServeService; url: string; log: ReturnType<typeof createMemoryLogger> }> {
  const log = createMemoryLogger('debug');
  const config = serveConfig({
    env,
    argv: ['--port', '0', ...(argv.includes('--web-dir') ? [] : ['--web-dir', NO_PAGES]), ...argv],
  });
  const service = new ServeService({ config, log, ...extra });
  t.teardown(() => service.stop());
  await service.start();
  return { service, url: service.url, log };
}

export async function postJson(
  url: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Waits until `check` holds, looking every few milliseconds; fails with `what` after `ms`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 15_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A signed release manifest of a package folder, written beside it, as `bookrec publish` would sign it. */
export async function signPackage(
  t: TestLike,
  dir: string,
  key: KeyObject,
  spec: { channel?: string; version?: number } = {},
): Promise<{ file: string; manifest: SignedManifest }> {
  const files = await readPackage(dir, 64 * 1024, DEFAULT_LIMITS);
  const version = spec.version ?? 1;
  const manifest = signManifest(
    {
      format: MANIFEST_FORMAT,
      channel: spec.channel ?? 'stable',
      model: 'student',
      version,
      serial: version,
      createdAt: '2026-01-01T00:00:00.000Z',
      files: files.map((f) => f.entry),
      rollout: { percent: 100, salt: 'phone' },
      minAgentVersion: '0.1.0',
      metrics: {},
      rollback: false,
      previousVersion: null,
    },
    key,
  );
  const file = join(testRoot(t), `${basename(dir)}-manifest.json`);
  await writeFile(file, JSON.stringify(manifest));
  return { file, manifest };
}
