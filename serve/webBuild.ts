import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { splitList } from '../common/configFormats.js';
import { BookrecError } from '../common/errors.js';
import {
  PACKAGE_MANIFEST_FILE,
  packageFileNames,
  validateManifest as validatePackageManifest,
} from '../common/model/packageManifest.js';
import { validateManifest } from '../common/protocol/manifest.js';
import type { PhoneSettings } from './pages.js';

/**
 * `npm run web`: bundles the pages (serve/pages/<page>/main.ts, with the shared inference code they
 * import) for the browser with esbuild, beside their HTML and CSS. `bookrec serve` serves dist/web; with
 * --package, --manifest and --trusted-keys the phone page is written as a static site that carries the
 * signed package itself (any static host will do: the page trusts the key, not the host).
 */
/** The checkout: this file runs as dist/serve/webBuild.js, and as serve/webBuild.ts under the tests. */
const ROOT = ['../../', '../']
  .map((up) => fileURLToPath(new URL(up, import.meta.url)))
  .find((dir) => existsSync(join(dir, 'serve', 'pages')))!;
export const PAGES = ['phone', 'fleet'] as const;

export interface BuiltFile {
  path: string;
  bytes: number;
}

export async function buildPages(outDir: string): Promise<BuiltFile[]> {
  const built: BuiltFile[] = [];
  for (const page of PAGES) {
    const src = join(ROOT, 'serve', 'pages', page);
    const out = join(outDir, page);
    await mkdir(out, { recursive: true });
    const result = await build({
      entryPoints: [join(src, 'main.ts')],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      minify: true,
      legalComments: 'none',
      write: false,
      logLevel: 'silent',
    });
    await writeFile(join(out, 'app.js'), result.outputFiles[0].contents);
    built.push({ path: `${page}/app.js`, bytes: result.outputFiles[0].contents.length });
    for (const name of ['index.html', 'style.css']) {
      await copyFile(join(src, name), join(out, name));
      built.push({ path: `${page}/${name}`, bytes: (await readFile(join(out, name))).length });
    }
  }
  return built;
}

export interface StaticPhone {
  packageDir: string;
  manifestFile: string;
  trustedKeys: string[];
}

/** The phone page as a static folder: the pages, config.json, and the signed package under package/. */
export async function buildStaticPhone(outDir: string, release: StaticPhone): Promise<BuiltFile[]> {
  const built = await buildPages(outDir);
  const phone = join(outDir, 'phone');
  const payload = await readFile(release.manifestFile);
  const manifest = validateManifest(JSON.parse(payload.toString('utf8')));
  // Only the package's own files go on the static host, whatever the release signed.
  const ownFile = join(release.packageDir, PACKAGE_MANIFEST_FILE);
  const listed = packageFileNames(
    validatePackageManifest(JSON.parse(await readFile(ownFile, 'utf8')), ownFile),
  );
  await mkdir(join(phone, 'package', 'files'), { recursive: true });
  await writeFile(join(phone, 'package', 'signed-manifest.json'), payload);
  built.push({ path: 'phone/package/signed-manifest.json', bytes: payload.length });
  for (const f of manifest.files) {
    if (!listed.has(f.name)) continue;
    const to = join(phone, 'package', 'files', ...f.name.split('/'));
    await mkdir(dirname(to), { recursive: true });
    await copyFile(join(release.packageDir, ...f.name.split('/')), to);
    built.push({ path: `phone/package/files/${f.name}`, bytes: f.size });
  }
  const settings: PhoneSettings = { trustedKeys: release.trustedKeys, packageBase: 'package/' };
  await writeFile(join(phone, 'config.json'), `${JSON.stringify(settings, null, 2)}\n`);
  return built;
}

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function main(argv: string[]): Promise<void> {
  const out = flag(argv, 'out') ?? join(ROOT, 'dist', 'web');
  const packageDir = flag(argv, 'package');
  const manifestFile = flag(argv, 'manifest');
  const keys = splitList(flag(argv, 'trusted-keys') ?? '');
  let built: BuiltFile[];
  if (packageDir || manifestFile) {
    if (!packageDir || !manifestFile || keys.length === 0) {
      throw new BookrecError(
        'USAGE',
        'a static phone page needs --package DIR, --manifest FILE and --trusted-keys KEYS',
      );
    }
    built = await buildStaticPhone(out, { packageDir, manifestFile, trustedKeys: keys });
  } else built = await buildPages(out);
  for (const f of built) console.log(`${String(f.bytes).padStart(10)}  ${join(out, f.path)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error((err as Error).message);
    process.exit(1);
  });
}
