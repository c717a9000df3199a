import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BookrecError, errorMessage } from '../errors.js';
import type { PackageSource } from './packageSource.js';

/** A package folder on disk (a device's installed release, a trainer's output, a server's --package). */
export function nodePackageSource(dir: string): PackageSource {
  const label = dir.replace(/\/+$/, '') || dir;
  return {
    label,
    async read(name) {
      const path = join(dir, name);
      try {
        return await readFile(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          // The whole folder missing is a wrong path, not a broken package: say which.
          if (!(await isFolder(dir))) {
            throw new BookrecError(
              'PACKAGE_MISSING',
              `package folder ${label} does not exist (bookrec train writes the package to OUT/package; give that folder)`,
              { cause: err },
            );
          }
          throw new BookrecError('PACKAGE_MISSING_FILE', `${path} is missing`, { cause: err });
        }
        throw new BookrecError('PACKAGE_INVALID', `${path} cannot be read: ${errorMessage(err)}`, {
          cause: err,
        });
      }
    },
    async sha256(bytes) {
      return createHash('sha256').update(bytes).digest('hex');
    },
  };
}

async function isFolder(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}
