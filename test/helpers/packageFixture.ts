import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PACKAGE_MANIFEST_FILE } from '../../common/model/packageManifest.js';
import { fixtureCatalogue, fixtureEncoding, fixtureModel } from './modelFixture.js';

/** A small package's parts and the manifest edits the package tests make (one place for both test files). */
export const N = 60;
export const NOW = new Date(Date.UTC(2026, 0, 1));

export type Json = Record<string, unknown> & { files: { name: string; size: number; sha256: string }[] };

/** hidden 0: the sparse student's topology (JS engine); > 0: with a dense path (tfjs only). */
export function parts(modelId: string, seed = 1, hidden = 8) {
  const catalogue = fixtureCatalogue(N);
  return {
    modelId,
    model: fixtureModel(N, 4, hidden, seed),
    catalogue,
    encoding: fixtureEncoding(N),
    fallback: [catalogue[3].id, catalogue[0].id],
    metrics: { ndcg10: 0.251, recall20: 0.3 },
    params: { a: 0.5, T: 2, architecture: 'sparse-4-mlp-8', layers: [4, 8] },
    createdAt: NOW,
  };
}

export async function readManifest(dir: string): Promise<Json> {
  return JSON.parse(await readFile(join(dir, PACKAGE_MANIFEST_FILE), 'utf8')) as Json;
}

export async function writeManifest(dir: string, manifest: unknown): Promise<void> {
  await writeFile(join(dir, PACKAGE_MANIFEST_FILE), JSON.stringify(manifest));
}

/** Replaces a file and, when asked, makes the manifest agree with it (to reach the checks behind it). */
export async function replaceFile(
  dir: string,
  name: string,
  bytes: Uint8Array | string,
  fixManifest: boolean,
) {
  await writeFile(join(dir, name), bytes);
  if (!fixManifest) return;
  const m = await readManifest(dir);
  const data = await readFile(join(dir, name));
  const entry = m.files.find((f) => f.name === name)!;
  entry.size = data.length;
  entry.sha256 = createHash('sha256').update(data).digest('hex');
  await writeManifest(dir, m);
}
