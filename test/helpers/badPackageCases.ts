import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CATALOGUE_FILE } from '../../common/model/catalogue.js';
import { WEIGHTS_FILE } from '../../common/model/modelJson.js';
import { PACKAGE_MANIFEST_FILE } from '../../common/model/packageManifest.js';
import { type Json, N, readManifest, replaceFile, writeManifest } from './packageFixture.js';

export type BadPackageCase = [
  what: string,
  code: string,
  message: RegExp,
  damage: (dir: string) => Promise<void>,
];

/**
 * Every way a package file can be wrong that the package checks (common/inference/checkedPackage.ts)
 * must catch, whichever engine runs the model: each case damages a copy of a good package. One table
 * for the tfjs reader (test/common/model/badPackages.test.ts) and openModel (test/common/inference/).
 */
export async function badPackageCases(good: string): Promise<BadPackageCase[]> {
  const manifest: Json = await readManifest(good);
  const weights = await readFile(join(good, WEIGHTS_FILE));
  const catalogue = JSON.parse(await readFile(join(good, CATALOGUE_FILE), 'utf8')) as unknown[];
  return [
    [
      'missing weights file',
      'PACKAGE_MISSING_FILE',
      /weights.bin is missing/,
      (d) => rm(join(d, WEIGHTS_FILE)),
    ],
    [
      'missing manifest',
      'PACKAGE_MISSING_FILE',
      /bookrec-package.json is missing/,
      (d) => rm(join(d, PACKAGE_MANIFEST_FILE)),
    ],
    [
      'wrong checksum',
      'PACKAGE_CHECKSUM',
      /weights.bin: sha256 [0-9a-f]{64} does not match/,
      async (d) => {
        const flipped = Uint8Array.from(weights);
        flipped[7] ^= 1;
        await replaceFile(d, WEIGHTS_FILE, flipped, false);
      },
    ],
    [
      'truncated weights.bin',
      'PACKAGE_SIZE',
      /weights.bin: \d+ bytes, the manifest says \d+/,
      async (d) => {
        await replaceFile(d, WEIGHTS_FILE, weights.subarray(0, weights.length - 100), false);
      },
    ],
    [
      'truncated weights.bin, manifest agreeing',
      'PACKAGE_INVALID',
      /weights.bin has \d+ bytes but model.json describes/,
      async (d) => {
        await replaceFile(d, WEIGHTS_FILE, weights.subarray(0, weights.length - 100), true);
      },
    ],
    [
      'wrong format version',
      'PACKAGE_FORMAT',
      /bookrec-package.json: format 2 is not supported \(this build reads format 1\)/,
      (d) => writeManifest(d, { ...manifest, format: 2 }),
    ],
    [
      'no format version',
      'PACKAGE_FORMAT',
      /format undefined is not supported/,
      (d) => writeManifest(d, { ...manifest, format: undefined }),
    ],
    [
      'malformed manifest',
      'PACKAGE_INVALID',
      /bookrec-package.json: not valid JSON/,
      (d) => writeFile(join(d, PACKAGE_MANIFEST_FILE), '{"format": 1,'),
    ],
    [
      'manifest not an object',
      'PACKAGE_INVALID',
      /the content must be a JSON object/,
      (d) => writeManifest(d, [1]),
    ],
    [
      'missing field',
      'PACKAGE_INVALID',
      /encoding is missing/,
      (d) => writeManifest(d, { ...manifest, encoding: undefined }),
    ],
    [
      'wrong type',
      'PACKAGE_INVALID',
      /modelId must be a string, not 5/,
      (d) => writeManifest(d, { ...manifest, modelId: 5 }),
    ],
    [
      'empty id',
      'PACKAGE_INVALID',
      /modelId must not be empty/,
      (d) => writeManifest(d, { ...manifest, modelId: '' }),
    ],
    [
      'unknown field',
      'PACKAGE_INVALID',
      /signature is not a known field/,
      (d) => writeManifest(d, { ...manifest, signature: 'x' }),
    ],
    [
      'bad date',
      'PACKAGE_INVALID',
      /createdAt "yesterday" is not an ISO 8601 date/,
      (d) => writeManifest(d, { ...manifest, createdAt: 'yesterday' }),
    ],
    [
      'path in a file name',
      'PACKAGE_INVALID',
      /files\[0\].name "..\/model.json" is not a plain file name/,
      (d) =>
        writeManifest(d, {
          ...manifest,
          files: [{ ...manifest.files[0], name: '../model.json' }, ...manifest.files.slice(1)],
        }),
    ],
    [
      'bad hash',
      'PACKAGE_INVALID',
      /files\[1\].sha256 must be 64 lowercase hex digits/,
      (d) =>
        writeManifest(d, {
          ...manifest,
          files: [manifest.files[0], { ...manifest.files[1], sha256: 'ABC' }, manifest.files[2]],
        }),
    ],
    [
      'file listed twice',
      'PACKAGE_INVALID',
      /files lists a file twice/,
      (d) => writeManifest(d, { ...manifest, files: [...manifest.files, manifest.files[0]] }),
    ],
    [
      'weights not listed',
      'PACKAGE_INVALID',
      /files does not list weights.bin/,
      (d) => writeManifest(d, { ...manifest, files: manifest.files.filter((f) => f.name !== WEIGHTS_FILE) }),
    ],
    [
      'other model file',
      'PACKAGE_INVALID',
      /modelFile must be "model.json"/,
      (d) => writeManifest(d, { ...manifest, modelFile: 'm.json' }),
    ],
    [
      'catalogue file = weights',
      'PACKAGE_INVALID',
      /catalogueFile must not be "weights.bin"/,
      (d) => writeManifest(d, { ...manifest, catalogueFile: WEIGHTS_FILE }),
    ],
    [
      'bad quantization',
      'PACKAGE_INVALID',
      /quantization "int4" is not one of uint8, float16, none/,
      (d) => writeManifest(d, { ...manifest, quantization: 'int4' }),
    ],
    [
      'bad plan',
      'PACKAGE_INVALID',
      /quantization.byName.x "int4"/,
      (d) => writeManifest(d, { ...manifest, quantization: { default: 'uint8', byName: { x: 'int4' } } }),
    ],
    [
      'metric not a number',
      'PACKAGE_INVALID',
      /metrics.ndcg10 must be a number, not "high"/,
      (d) => writeManifest(d, { ...manifest, metrics: { ndcg10: 'high' } }),
    ],
    [
      'fallback not an id',
      'PACKAGE_INVALID',
      /fallback\[1\] must be an integer >= 1, not 0/,
      (d) => writeManifest(d, { ...manifest, fallback: [1000, 0] }),
    ],
    [
      'fallback outside the catalogue',
      'PACKAGE_INVALID',
      /fallback book 99 is not in the catalogue/,
      (d) => writeManifest(d, { ...manifest, fallback: [99] }),
    ],
    [
      'catalogue shorter than the encoding',
      'PACKAGE_INVALID',
      /encoding.items is 60 but .*catalogue.json has 59 books/,
      (d) => replaceFile(d, CATALOGUE_FILE, JSON.stringify(catalogue.slice(1)), true),
    ],
    [
      'catalogue length != model width',
      'PACKAGE_INVALID',
      /catalogue.json has 59 books but .*model.json maps 60 inputs to 60 scores/,
      async (d) => {
        await replaceFile(d, CATALOGUE_FILE, JSON.stringify(catalogue.slice(1)), true);
        const m = await readManifest(d);
        await writeManifest(d, { ...m, encoding: { ...(m.encoding as object), items: 59 }, fallback: [] });
      },
    ],
    [
      'catalogue not JSON',
      'PACKAGE_INVALID',
      /catalogue.json: not valid JSON/,
      (d) => replaceFile(d, CATALOGUE_FILE, '[{', true),
    ],
    [
      'catalogue entry wrong',
      'PACKAGE_INVALID',
      /catalogue.json: \[2\].year must be an integer, not "1999" or null/,
      (d) =>
        replaceFile(
          d,
          CATALOGUE_FILE,
          JSON.stringify(catalogue.map((b, i) => (i === 2 ? { ...(b as object), year: '1999' } : b))),
          true,
        ),
    ],
    [
      'catalogue id twice',
      'PACKAGE_INVALID',
      /\[1\].id 1000 appears twice/,
      (d) =>
        replaceFile(d, CATALOGUE_FILE, JSON.stringify([catalogue[0], ...catalogue.slice(0, N - 1)]), true),
    ],
  ];
}
