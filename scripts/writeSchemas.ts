import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomicFile.js';
import { WIRE_CONTRACTS } from '../common/protocol/contracts.js';

/**
 * `npm run schemas`: the JSON Schema of every wire payload, for people who integrate with the fleet
 * (docs/schemas/). Generated from common/protocol, never edited by hand; a test fails when they differ.
 */
/** Relative to the repository root (npm runs scripts there). */
export const SCHEMA_DIR = join('docs', 'schemas');

/** The file name and text of each payload's JSON Schema. */
export function schemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const c of WIRE_CONTRACTS) {
    const doc = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      title: c.title,
      ...c.schema,
    };
    files.set(`${c.name}.schema.json`, `${JSON.stringify(doc, null, 2)}\n`);
  }
  return files;
}

async function main(): Promise<void> {
  await mkdir(SCHEMA_DIR, { recursive: true });
  const files = schemaFiles();
  for (const name of await readdir(SCHEMA_DIR)) {
    if (name.endsWith('.schema.json') && !files.has(name)) await rm(join(SCHEMA_DIR, name));
  }
  for (const [name, text] of files) await writeFileAtomic(join(SCHEMA_DIR, name), text);
  process.stdout.write(`wrote ${files.size} schemas to ${SCHEMA_DIR}\n`);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exitCode = 1;
  });
}
