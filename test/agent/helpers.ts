import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AgentConfig, agentConfig } from '../../agent/config.js';
import type { BookEntry } from '../../common/model/catalogue.js';
import { writePackage } from '../../common/model/modelPackage.js';
import type { ReceivedRelease } from '../../common/protocol/receiver.js';
import { TopicMap } from '../../common/protocol/topics.js';
import { loadCatalogue } from '../../trainer/data/books.js';
import { fixtureCatalogue, fixtureEncoding, fixtureModel } from '../helpers/modelFixture.js';
import { realDataDir } from '../helpers/realData.js';
import { buildRelease, type TestKey } from '../helpers/release.js';

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
  options: { n?: number; seed?: number; catalogue?: BookEntry[]; modelId?: string } = {},
): Promise<{ dir: string; catalogue: BookEntry[] }> {
  const catalogue = options.catalogue ?? fixtureCatalogue(options.n ?? 60);
  const n = catalogue.length;
  const model = fixtureModel(n, 8, 16, options.seed ?? 1);
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

/** Peak and RMS (0..1) of a 16-bit PCM WAV's samples, read from its data chunk. */
export async function wavLevels(
  file: string,
): Promise<{ peak: number; rms: number; samples: number; rate: number }> {
  const buf = await readFile(file);
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE')
    throw new Error(`${file}: not a WAV`);
  let at = 12;
  let rate = 0;
  let bits = 0;
  while (at + 8 <= buf.length) {
    const id = buf.toString('ascii', at, at + 4);
    let size = buf.readUInt32LE(at + 4);
    if (id === 'fmt ') {
      rate = buf.readUInt32LE(at + 12);
      bits = buf.readUInt16LE(at + 22);
    }
    if (id === 'data') {
      if (bits !== 16) throw new Error(`${file}: ${bits}-bit samples`);
      // espeak-ng writes 0x7fffffff as the data size when it streams; use what the file has.
      size = Math.min(size, buf.length - at - 8);
      const n = Math.floor(size / 2);
      let peak = 0;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const v = buf.readInt16LE(at + 8 + 2 * i) / 32768;
        peak = Math.max(peak, Math.abs(v));
        sum += v * v;
      }
      return { peak, rms: n > 0 ? Math.sqrt(sum / n) : 0, samples: n, rate };
    }
    at += 8 + size + (size % 2);
  }
  throw new Error(`${file}: no data chunk`);
}

/** Polls `check` until it returns a value other than undefined/false, or fails after timeoutMs. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
