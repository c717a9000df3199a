import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BookrecError, errorMessage } from '../common/errors.js';
import type { EngineLoader } from '../common/inference/engine.js';
import { nodePackageSource } from '../common/inference/nodePackageSource.js';
import { openTested } from '../common/inference/openTested.js';
import { packageFileNames } from '../common/model/packageManifest.js';
import { checkManifest } from '../common/protocol/manifestCheck.js';
import type { TrustedKeys } from '../common/protocol/signing.js';
import type { ServedModel } from './modelSlot.js';

/**
 * `--package DIR`: a package folder checked and self-tested like an installed release. With `--manifest`
 * (the signed release manifest of exactly these files, e.g. the one `bookrec publish` signed), every file
 * is also checked against the signature, so the phone page can be handed the same signed package a
 * speaker installs.
 */
export async function loadPackageFolder(
  dir: string,
  options: { manifestFile?: string; keys: TrustedKeys; loadOther?: EngineLoader },
): Promise<ServedModel> {
  const model = await openTested(nodePackageSource(dir), { loadOther: options.loadOther });
  try {
    const served: ServedModel = {
      model,
      name: model.manifest.modelId,
      version: null,
      from: 'package',
    };
    if (!options.manifestFile) return served;
    const signed = await signedFiles(
      dir,
      options.manifestFile,
      options.keys,
      packageFileNames(model.manifest),
    );
    return { ...served, name: signed.manifest.model, version: signed.manifest.version, signed };
  } catch (err) {
    model.engine.dispose();
    throw err;
  }
}

async function signedFiles(
  dir: string,
  file: string,
  keys: TrustedKeys,
  listed: ReadonlySet<string>,
): Promise<NonNullable<ServedModel['signed']>> {
  let payload: Buffer;
  try {
    payload = await readFile(file);
  } catch (err) {
    throw new BookrecError('CONFIG_FILE', `signed manifest ${file}: ${errorMessage(err)}`, { cause: err });
  }
  let channel: unknown;
  try {
    channel = (JSON.parse(payload.toString('utf8')) as { channel?: unknown }).channel;
  } catch {
    // checkManifest names the JSON problem.
  }
  const manifest = checkManifest(payload, { keys, channel: typeof channel === 'string' ? channel : '' });
  const files = new Map<string, Uint8Array>();
  const source = nodePackageSource(dir);
  for (const f of manifest.files) {
    // Never read (and so never serve) a file the package does not list, whatever the release signed.
    if (!listed.has(f.name)) continue;
    const bytes = await source.read(f.name);
    const sha = await source.sha256(bytes);
    if (bytes.length !== f.size || sha !== f.sha256) {
      throw new BookrecError(
        'FILE_SHA256',
        `${join(dir, f.name)} is not the file ${file} signed (${bytes.length} bytes, sha256 ${sha}; signed: ${f.size} bytes, ${f.sha256})`,
      );
    }
    files.set(f.name, bytes);
  }
  return { manifest, files };
}
