import type { KeyObject } from 'node:crypto';
import { access, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../common/atomicFile.js';
import { BookrecError, isBookrecError } from '../common/errors.js';
import { generateSigningKey, type KeyPair, loadPrivateKey } from '../common/protocol/signing.js';

/** The public key file written beside a private key: what devices are configured with. */
export function publicKeyFile(privateKeyFile: string): string {
  return `${privateKeyFile.replace(/\.pem$/, '')}.pub`;
}

/**
 * Makes a signing key pair: the private key readable by its owner only (0600), the public key (raw,
 * base64, one line) beside it. Refuses to overwrite a key unless forced: losing the key that devices
 * trust means no release can reach them until each is given a new one.
 */
export async function createKeyFiles(file: string, force: boolean): Promise<KeyPair> {
  if (!force && (await exists(file))) {
    throw new BookrecError(
      'KEY_EXISTS',
      `${file} exists; pass --force to replace it (devices trust the old key)`,
    );
  }
  const pair = generateSigningKey();
  // The folder too is the owner's only when made here (~/.config/bookrec); an existing one is left as is.
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, pair.privateKeyPem, 0o600);
  await writeFileAtomic(publicKeyFile(file), `${pair.publicKey}\n`, 0o644);
  return pair;
}

export async function loadSigningKey(file: string): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    throw new BookrecError(
      'KEY_MISSING',
      `signing key ${file}: ${(err as NodeJS.ErrnoException).code ?? err} (make one with bookrec keys)`,
    );
  }
  if (!pem.includes('PRIVATE KEY')) throw notAPrivateKey(file, pem);
  try {
    return loadPrivateKey(pem);
  } catch (err) {
    if (isBookrecError(err)) throw new BookrecError(err.code, `signing key ${file}: ${err.message}`);
    throw err;
  }
}

/**
 * A key file that holds no private key, said with the fix: most often the .pub written beside it
 * (before, OpenSSL's "error:1E08010C:DECODER routines::unsupported").
 */
function notAPrivateKey(file: string, text: string): BookrecError {
  const publicKey = text.includes('PUBLIC KEY') || file.endsWith('.pub') || isRawPublicKey(text.trim());
  const pem = file.endsWith('.pub') ? `${file.slice(0, -'.pub'.length)}.pem` : 'the .pem file';
  return new BookrecError(
    'KEY_INVALID',
    publicKey
      ? `${file} is a public key (what devices trust); pass the .pem private key that signs, e.g. --key-file ${pem}`
      : `${file} is not a PEM private key; pass the .pem file bookrec keys wrote (bookrec keys --key-file FILE makes one)`,
  );
}

/** A raw Ed25519 public key in base64, as bookrec keys writes the .pub. */
function isRawPublicKey(text: string): boolean {
  return /^[A-Za-z0-9+/]{43}=$/.test(text);
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
