import { createHash } from 'node:crypto';
import { BookrecError, errorMessage } from '../common/errors.js';
import { bytesPackageSource } from '../common/inference/bytesPackageSource.js';
import type { EngineLoader } from '../common/inference/engine.js';
import { openModel } from '../common/inference/openModel.js';
import { selfTest } from '../common/inference/selfTest.js';
import { PACKAGE_MANIFEST_FILE } from '../common/model/packageManifest.js';
import { notAModelPackage, type PackageFile } from './packageFiles.js';

/**
 * What `bookrec publish` checks before it signs: that the folder is a model package devices can install,
 * on the same code they install it with (common/inference): the package's own manifest, every file's size
 * and sha256, the catalogue and encoding, the model loading, and the self-test (finite scores of the
 * catalogue's width). Before, a folder holding only readme.txt was signed and published at 100%, and
 * every device then failed to install it.
 */
export async function checkModelPackage(label: string, files: readonly PackageFile[]): Promise<void> {
  const bytes = new Map(files.map((f) => [f.entry.name, f.data as Uint8Array]));
  if (!bytes.has(PACKAGE_MANIFEST_FILE)) throw notAModelPackage(label);
  const sha256 = async (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
  let model: Awaited<ReturnType<typeof openModel>>;
  try {
    model = await openModel(bytesPackageSource(label, bytes, sha256), { loadOther: tfjsWhenNeeded });
  } catch (err) {
    throw new BookrecError(
      'PACKAGE_INVALID',
      `${label} is not a package devices can install: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
  try {
    selfTest(model);
  } catch (err) {
    throw new BookrecError(
      'PACKAGE_INVALID',
      `${label} fails the self-test devices run: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  } finally {
    model.engine.dispose();
  }
}

/** tfjs only for a model the JS engine does not run (an MLP student), imported then and not before. */
const tfjsWhenNeeded: EngineLoader = async (pkg) => {
  const { tfjsEngineLoader } = await import('../common/model/tfjsEngine.js');
  return tfjsEngineLoader({ backend: 'auto' })(pkg);
};
