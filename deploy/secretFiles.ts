/**
 * What looks like a key or a secret in a package folder, by its path or its content. `bookrec publish`
 * refuses to go on while such a file is in the folder: a release is retained on the broker, readable by
 * every device and mirrored by `bookrec serve`, so a key copied in by mistake would be handed out to all
 * of them (issue 21: a deploy-key.pem beside the model went out in a release). Refusing, rather than
 * skipping it quietly, makes the operator look at how it got there.
 */

/** File names of keys, certificates' keys, key stores and credential files. */
const SECRET_NAMES: readonly RegExp[] = [
  /\.(pem|key|p12|pfx|jks|keystore|ppk|gpg|asc|kdbx)$/i,
  /^id_(rsa|dsa|ecdsa|ed25519)(\.pub)?$/i,
  /^\.env(\..*)?$/i,
  /^\.(netrc|npmrc|pgpass|htpasswd|git-credentials)$/i,
  /credential|secret|passw(or)?d/i,
];

/** Folders whose contents are secret whatever the file is called. */
const SECRET_FOLDERS = /^(\.?secrets?|\.ssh|\.gnupg|\.aws|private|credentials)$/i;

/** PEM armour of any private key (PKCS#8, RSA, EC, OpenSSH, encrypted). */
const PRIVATE_KEY_PEM = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/**
 * Why a package file looks secret, or undefined. `name` is the path inside the package with `/`;
 * `data`, when given, is searched for a PEM private key.
 */
export function secretReason(name: string, data?: Uint8Array): string | undefined {
  const parts = name.split('/');
  const folder = parts.slice(0, -1).find((p) => SECRET_FOLDERS.test(p));
  if (folder) return `it is under a ${folder}/ folder`;
  const base = parts[parts.length - 1];
  if (SECRET_NAMES.some((re) => re.test(base))) return 'its name is that of a key or credentials file';
  if (
    data &&
    PRIVATE_KEY_PEM.test(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1'))
  )
    return 'it holds a PEM private key';
  return undefined;
}
