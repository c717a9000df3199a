/**
 * Where a model package's files come from: a folder on a device or server (nodePackageSource.ts), a
 * fetch in the reader's browser, bytes a test holds. The inference core reads packages only through
 * this, so it runs unchanged wherever there is JavaScript.
 */
export interface PackageSource {
  /** Where the package is, for messages: "<label>/<file> is missing". */
  readonly label: string;
  /** A file's bytes; a missing file throws a BookrecError PACKAGE_MISSING_FILE naming it. */
  read(name: string): Promise<Uint8Array>;
  /** Lowercase hex sha256 (node:crypto on Node, WebCrypto in a browser). */
  sha256(bytes: Uint8Array): Promise<string>;
}

/** "<label>/<name>", for messages. */
export function filePath(source: Pick<PackageSource, 'label'>, name: string): string {
  return `${source.label}/${name}`;
}
