import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AgentConfig, agentConfig } from '../../agent/config.js';
import { wavLevels as measureWav, type WavLevels } from '../../agent/speech/wavLevels.js';
import type { BookEntry } from '../../common/model/catalogue.js';
import { writePackage } from '../../common/model/modelPackage.js';
import type { ReceivedRelease } from '../../common/protocol/receiver.js';
import { TopicMap } from '../../common/protocol/topics.js';
import { loadCatalogue } from '../../trainer/data/books.js';
import { fixtureCatalogue, fixtureEncoding, fixtureModel } from '../helpers/modelFixture.js';
import { realDataDir } from '../helpers/realData.js';
import { buildRelease, type TestKey } from '../helpers/release.js';
import { scaled } from '../helpers/time.js';

/** Shared pieces of the agent tests: packages, releases, settings, WAV checks, waiting. */

interface T {
  testdir(): string;
  skip(name: string, cb: () => void): unknown;
  fail(message: string): unknown;
}

/** The first n books of the real goodbooks-10k catalogue (fails in CI when the data is missing). */
export async function realBooks(t: T, n: number): Promise<BookEntry[] | undefined> {
  const dir = realDataDir(t);
  if (!dir) return undefined;
  const { books } = await loadCatalogue(join(dir, 'books.csv'));
  return books.slice(0, n).map((b) => ({
    id: b.id,
    title: b.title,
    authors: b.authors,
    year: b.year ?? null,
    language: b.language ?? '',
  }));
}

/** A student-shaped package (random weights) in `dir`; the catalogue is synthetic unless given. */
export async function makePackage(
  dir: string,
  options: { n?: number; seed?: number; catalogue?: BookEntry[]; modelId?: string; hidden?: number } = {},
): Promise<{ dir: string; catalogue: BookEntry[] }> {
  const catalogue = options.catalogue ?? fixtureCatalogue(options.n ?? 60);
  const n = catalogue.length;
  // hidden 0 (default): the shipped student's topology, run by the JS engine; > 0: a model only tfjs runs.
  const model = fixtureModel(n, 8, options.hidden ?? 0, options.seed ?? 1);
  try {
    await writePackage(dir, {
      modelId: options.modelId ?? `student-${options.seed ?? 1}`,
      model,
      catalogue,
      encoding: fixtureEncoding(n),
      fallback: catalogue.slice(0, 5).map((b) => b.id),
    });
  } finally {
    model.dispose();
  }
  return { dir, catalogue };
}

/** The files of a package folder, as the receiver would hand them over. */
export async function packageFiles(dir: string): Promise<{ name: string; data: Buffer }[]> {
  const names = (await readdir(dir)).sort();
  return Promise.all(names.map(async (name) => ({ name, data: await readFile(join(dir, name)) })));
}

/** A verified release of a package folder, as ReleaseReceiver.onRelease gets it. */
export async function releaseOf(key: TestKey, dir: string, version: number): Promise<ReceivedRelease> {
  const files = await packageFiles(dir);
  const built = buildRelease(key.key, new TopicMap(), { version, files, chunkSize: 64 * 1024 });
  return { manifest: built.manifest, files };
}

/** Agent settings for a test: a state dir in the test's folder, no speech, no broker by default. */
export function testConfig(stateDir: string, argv: string[] = [], env: NodeJS.ProcessEnv = {}): AgentConfig {
  // convict joins a repeated flag into a list: a default is added only when argv does not set it.
  const defaults: [string, string][] = [
    ['--state-dir', stateDir],
    ['--tts', 'none'],
    ['--broker', 'mqtt://127.0.0.1:1'],
  ];
  const extra = defaults.filter(([flag]) => !argv.includes(flag)).flat();
  return agentConfig({ env: { BOOKREC_DEVICE_ID: 'dev-a', ...env }, argv: [...extra, ...argv] });
}

/** Peak, RMS and length of a WAV file the speech path wrote. */
export async function wavLevels(file: string): Promise<WavLevels> {
  return measureWav(await readFile(file), file);
}

/**
 * Polls `check` until it returns a value other than undefined/false, or fails after timeoutMs (scaled by
 * BOOKREC_TEST_TIME_SCALE: the limit is where a test gives up, never a time it sleeps).
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  limitMs = 20_000,
): Promise<T> {
  const timeoutMs = scaled(limitMs);
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
