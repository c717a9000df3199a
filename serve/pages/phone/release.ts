import { BookrecError } from '../../../common/errors.js';
import { bytesPackageSource, webCryptoSha256 } from '../../../common/inference/bytesPackageSource.js';
import type { OpenModel } from '../../../common/inference/openModel.js';
import { openTested } from '../../../common/inference/openTested.js';
import type { SignedManifest } from '../../../common/protocol/manifest.js';
import { checkManifestWeb, webTrustedKeys } from '../../../common/protocol/webManifestCheck.js';

/** What the page is configured with (config.json beside it): the keys it trusts and where the package is. */
export interface PhoneSettings {
  trustedKeys: string[];
  /** `<base>signed-manifest.json` and `<base>files/<name>`, relative to the page. */
  packageBase: string;
}

export interface TrustedRelease {
  model: OpenModel;
  manifest: SignedManifest;
  /** Bytes downloaded for the package (manifest and files). */
  bytes: number;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url, { cache: 'no-cache', credentials: 'omit' });
  if (!res.ok) throw new BookrecError('DOWNLOAD_FAILED', `${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * The release the speaker would install, checked the same way before anything of it is used: the
 * manifest's Ed25519 signature against a key this page trusts (WebCrypto), every file's size and
 * sha256 against the signed manifest, then the package's own checks and the self-test (openTested). The
 * sparse student is ranked by the JS engine; a release with another kind of model is refused with a
 * message, since this page carries no ML library.
 */
export async function loadTrustedRelease(settings: PhoneSettings): Promise<TrustedRelease> {
  if (settings.trustedKeys.length === 0) {
    throw new BookrecError('NO_TRUSTED_KEY', 'this page is configured with no release key to trust');
  }
  const keys = await webTrustedKeys(settings.trustedKeys);
  const payload = await fetchBytes(`${settings.packageBase}signed-manifest.json`);
  const manifest = await checkManifestWeb(payload, { keys });
  let bytes = payload.length;
  const files = new Map<string, Uint8Array>();
  for (const f of manifest.files) {
    const data = await fetchBytes(
      `${settings.packageBase}files/${f.name.split('/').map(encodeURIComponent).join('/')}`,
    );
    bytes += data.length;
    const sha = await webCryptoSha256(data);
    if (data.length !== f.size || sha !== f.sha256) {
      throw new BookrecError(
        'FILE_SHA256',
        `${f.name} is not the file the release key signed (${data.length} bytes, sha256 ${sha.slice(0, 12)}…)`,
      );
    }
    files.set(f.name, data);
  }
  try {
    const model = await openTested(bytesPackageSource(`release ${manifest.version}`, files));
    return { model, manifest, bytes };
  } catch (err) {
    if ((err as { code?: string }).code === 'PACKAGE_UNSUPPORTED') {
      throw new BookrecError(
        'PACKAGE_UNSUPPORTED',
        `release ${manifest.version} holds a model this page cannot run: the phone runs the sparse student only`,
      );
    }
    throw err;
  }
}
