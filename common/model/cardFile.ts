import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, writeFileAtomic } from '../atomicFile.js';
import { CARD_FILE, type EvaluationCard, validateCard } from './evaluationCard.js';
import { PACKAGE_MANIFEST_FILE, type PackageManifest, validateManifest } from './packageManifest.js';

/**
 * Adds (or replaces) the evaluation card of a written package: the trainer knows the test figures only
 * after the package is exported and checked. The card is written first, then bookrec-package.json with
 * its size and sha256 (each file atomically): until the manifest lists it, a reader ignores card.json,
 * so a crash in between leaves the package as it was.
 */
export async function writeCard(dir: string, card: EvaluationCard): Promise<PackageManifest> {
  const label = `writeCard(${dir})`;
  const bytes = Buffer.from(`${JSON.stringify(validateCard(card, label), null, 2)}\n`);
  const manifestPath = join(dir, PACKAGE_MANIFEST_FILE);
  const manifest = validateManifest(JSON.parse(await readFile(manifestPath, 'utf8')), manifestPath);
  await writeFileAtomic(join(dir, CARD_FILE), bytes);
  const entry = {
    name: CARD_FILE,
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
  const next: PackageManifest = {
    ...manifest,
    files: [...manifest.files.filter((f) => f.name !== CARD_FILE), entry],
  };
  validateManifest(JSON.parse(JSON.stringify(next)), label);
  await writeFileAtomic(manifestPath, `${JSON.stringify(next, null, 2)}\n`);
  await fsyncDir(dir);
  return next;
}
