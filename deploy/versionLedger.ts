import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../common/atomicFile.js';
import { BookrecError, errorMessage } from '../common/errors.js';

/**
 * The version numbers this machine has published, per broker, prefix and channel, in a small file
 * beside the signing key. A version number names content: a device that has version 5 skips any manifest
 * of version 5 as already installed. The broker's retained records are where numbering normally comes
 * from, but a broker that lost its store (a crash before it saved) forgets them, and the next publish
 * reused a number devices already had with other content. A version is recorded just before its manifest
 * goes out, so even a publish killed right then never hands its number out twice.
 */
export interface VersionLedger {
  /** The highest version published on the channel from here (0: none). */
  highest(channel: string): Promise<number>;
  /** Records that `version` is about to be published on the channel. */
  record(channel: string, version: number): Promise<void>;
  readonly file: string;
}

interface LedgerFile {
  format: 1;
  /** "<broker>|<prefix>|<channel>" -> the highest version and when it was recorded. */
  versions: Record<string, { highest: number; at: string }>;
}

/** A ledger in `file`, for the channels of one broker and prefix (`scope`, e.g. "broker:8883|bookrec"). */
export function fileLedger(file: string, scope: string): VersionLedger {
  const key = (channel: string) => `${scope}|${channel}`;
  const read = async (): Promise<LedgerFile> => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { format: 1, versions: {} };
      throw new BookrecError('LEDGER_IO', `version ledger ${file}: ${errorMessage(err)}`);
    }
    try {
      const value = JSON.parse(text) as LedgerFile;
      if (value.format !== 1 || typeof value.versions !== 'object' || value.versions === null)
        throw new Error('not a version ledger');
      return value;
    } catch (err) {
      // Guessing would risk the very reuse the ledger exists to prevent: a person has to look.
      throw new BookrecError(
        'LEDGER_INVALID',
        `version ledger ${file} is damaged (${errorMessage(err)}); fix or remove it, and give --model-version above every version this channel has used`,
      );
    }
  };
  return {
    file,
    async highest(channel) {
      const n = (await read()).versions[key(channel)]?.highest;
      return Number.isSafeInteger(n) && (n as number) > 0 ? (n as number) : 0;
    },
    async record(channel, version) {
      const ledger = await read();
      const before = ledger.versions[key(channel)]?.highest ?? 0;
      ledger.versions[key(channel)] = { highest: Math.max(before, version), at: new Date().toISOString() };
      await writeFileAtomic(file, `${JSON.stringify(ledger, null, 2)}\n`, 0o600);
    },
  };
}

/** Where the ledger of a signing key lives: beside it (deploy-key.pem -> deploy-key.versions.json). */
export function ledgerFileFor(keyFile: string): string {
  return `${keyFile.replace(/\.pem$/, '')}.versions.json`;
}
