/**
 * `npm run deb`: builds out/deb/bookrec-agent_<version>_all.deb from the built project (dist/) and the
 * installed node_modules, with dpkg-deb. What goes in:
 *
 *   /usr/bin/bookrec-agent                     the command (packaging/deb/bookrec-agent)
 *   /usr/share/bookrec-agent/dist/             what dist/cli/bookrecAgent.js loads (no trainer, deploy)
 *   /usr/share/bookrec-agent/node_modules/     the production packages those import, and theirs
 *   /lib/systemd/system/bookrec-agent.service  systemd/bookrec-agent.service
 *   /etc/bookrec/agent.json                    conffile: JSON with comments (packaging/deb/agent.json)
 *   /usr/share/doc/bookrec-agent/, man page    copyright (with every bundled package), changelog
 *
 * Architecture all: nothing on the device path is a native addon (the build fails if one appears;
 * onoff, whose epoll is one, is left out). Of the bundled packages only what Node loads ships
 * (scripts/deb/shippedFiles.ts): no tests, docs, maps, type declarations or second builds.
 * usage: npm run deb   (= npm run build && node dist/scripts/deb/build.js [OUT_DIR])
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { bareImports, dependencyClosure, LEFT_OUT, type NpmPackage, reachableFiles } from './dependencies.js';
import { bundleOnly, runtimeFile } from './shippedFiles.js';

const PACKAGE = 'bookrec-agent';
const SHIPPED_DIST = ['agent', 'common', 'cli'];
/** The command's entry (packaging/deb/bookrec-agent runs it): `bookrec agent` under its own name. */
const ENTRY = 'dist/cli/bookrecAgent.js';
const APP_DIR = `usr/share/${PACKAGE}`;

const root = resolve(process.cwd());
const outDir = resolve(process.argv[2] ?? join('out', 'deb'));
const stage = join(outDir, 'stage');
const project = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
  dependencies: Record<string, string>;
};

function fail(message: string): never {
  console.error(`deb: ${message}`);
  process.exit(1);
}

function put(path: string, data: string | Buffer, mode = 0o644): void {
  const full = join(stage, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, data);
  chmodSync(full, mode);
}

/** Scripts (a #! line: the CLI entries, a package's bin) stay executable, everything else is data. */
const isScript = (file: string) => readFileSync(file).subarray(0, 2).toString() === '#!';

/** Copies a tree; `keep` decides per file (path relative to the tree). Modes are normalised. */
function copyTree(from: string, to: string, keep: (rel: string) => boolean, base = from): void {
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const rel = relative(base, src);
    if (statSync(src).isDirectory()) copyTree(src, join(to, name), keep, base);
    else if (keep(rel)) {
      mkdirSync(to, { recursive: true });
      copyFileSync(src, join(to, name));
      chmodSync(join(to, name), isScript(src) ? 0o755 : 0o644);
    }
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The last commit's date and id: the changelog's, reproducibly. */
function gitFacts(): { date: Date; commit: string } {
  const git = (format: string) =>
    execFileSync('git', ['log', '-1', `--format=${format}`], { cwd: root, encoding: 'utf8' }).trim();
  try {
    return { date: new Date(Number(git('%ct')) * 1000), commit: git('%h') };
  } catch {
    return { date: new Date(0), commit: 'unknown' };
  }
}

/** The control file's Maintainer (one place): the changelog's signature too. */
function maintainerOf(control: string): string {
  const field = /^Maintainer: (.+)$/m.exec(control)?.[1];
  if (!field || field.includes('@MAINTAINER@')) fail('packaging/deb/control has no Maintainer');
  return field;
}

function copyright(packages: NpmPackage[], year: number): string {
  const lines = [
    `${PACKAGE}: the speaker agent of edge-bookrec.`,
    '',
    `Copyright (C) ${year} the edge-bookrec authors`,
    `License: ${project.license}`,
    '',
    '',
    'Permission is hereby granted, free of charge, to any person obtaining a copy of this software and',
    'associated documentation files (the "Software"), to deal in the Software without restriction,',
    'including without limitation the rights to use, copy, modify, merge, publish, distribute,',
    'sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is',
    'furnished to do so, subject to the following conditions:',
    '',
    'The above copyright notice and this permission notice shall be included in all copies or',
    'substantial portions of the Software.',
    '',
    'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT',
    'NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND',
    'NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES',
    'OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN',
    'CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.',
    '',
    `Bundled npm packages, in /${APP_DIR}/node_modules (each with its own license file there):`,
    '',
    ...packages.map((p) => `  ${p.name} ${p.version}: ${p.license}`),
    '',
    'On Debian systems, the full text of the Apache License 2.0 is in',
    '/usr/share/common-licenses/Apache-2.0.',
    '',
  ];
  return lines.join('\n');
}

function changelog(version: string, author: string, date: Date, commit: string): string {
  return [
    `${PACKAGE} (${version}) unstable; urgency=medium`,
    '',
    `  * Built from edge-bookrec ${version}, commit ${commit}.`,
    '',
    ` -- ${author}  ${date.toUTCString().replace('GMT', '+0000')}`,
    '',
  ].join('\n');
}

// --- build ---------------------------------------------------------------------------------------------
for (const dir of SHIPPED_DIST) {
  if (!existsSync(join(root, 'dist', dir))) fail(`dist/${dir} is missing: run npm run build first`);
}
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });

// The agent's own files: what its entry loads, so nothing only the trainer or the deploy side uses.
const shipped = reachableFiles([join(root, ENTRY)], (file) =>
  SHIPPED_DIST.some((dir) => file.startsWith(join(root, 'dist', dir, '/'))),
);
for (const file of shipped) {
  const to = join(stage, APP_DIR, relative(root, file));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(file, to);
  chmodSync(to, isScript(file) ? 0o755 : 0o644);
}

const imported = bareImports(shipped);
const roots = [...imported].filter((name) => !(name in LEFT_OUT)).sort();
for (const name of roots) {
  if (!(name in project.dependencies))
    fail(`the device path imports ${name}, which is not a production dependency in package.json`);
}
const bundled: string[] = [];
const packages = dependencyClosure(root, roots).filter((p) => {
  const from = join(root, p.path);
  if (!existsSync(from)) fail(`${p.path} is in package-lock.json but not installed: run npm ci`);
  const to = join(stage, APP_DIR, p.path);
  const onlyBundle = bundleOnly(from);
  if (onlyBundle) bundled.push(p.name);
  copyTree(from, to, onlyBundle ?? runtimeFile);
  // A package left with nothing Node can load (type declarations only, e.g. @types/*) is not shipped.
  const loadable = filesUnder(to).some(
    (f) => /\.(c?js|mjs|json|wasm)$/.test(f) && !f.endsWith('/package.json'),
  );
  if (!loadable) {
    rmSync(to, { recursive: true });
    const scope = dirname(to);
    if (readdirSync(scope).length === 0) rmSync(scope, { recursive: true });
  }
  return loadable;
});
const natives = filesUnder(join(stage, APP_DIR, 'node_modules')).filter(
  (f) => f.endsWith('.node') || f.endsWith('binding.gyp'),
);
if (natives.length > 0)
  fail(
    `native addons on the device path make Architecture: all wrong: ${natives.map((f) => relative(stage, f))}`,
  );

put(
  join(APP_DIR, 'package.json'),
  `${JSON.stringify(
    {
      // agentVersion() reads the version from here, under the project's name.
      name: 'edge-bookrec',
      version: project.version,
      description: 'The speaker agent of edge-bookrec, as installed by the Debian package bookrec-agent.',
      type: 'module',
      private: true,
      license: project.license,
      engines: { node: '>=18.19' },
      dependencies: Object.fromEntries(roots.map((name) => [name, project.dependencies[name]])),
    },
    null,
    2,
  )}\n`,
);
put(`usr/bin/${PACKAGE}`, readFileSync(join(root, 'packaging/deb/bookrec-agent')), 0o755);
put(`lib/systemd/system/${PACKAGE}.service`, readFileSync(join(root, 'systemd/bookrec-agent.service')));
put('etc/bookrec/agent.json', readFileSync(join(root, 'packaging/deb/agent.json')));
const { date, commit } = gitFacts();
const control = readFileSync(join(root, 'packaging/deb/control'), 'utf8');
const maintainer = maintainerOf(control);
put(`usr/share/doc/${PACKAGE}/copyright`, copyright(packages, date.getUTCFullYear()));
put(
  `usr/share/doc/${PACKAGE}/changelog.gz`,
  gzipSync(changelog(project.version, maintainer, date, commit), { level: 9 }),
);
if (existsSync(join(root, 'docs/raspberry-pi.md')))
  put(`usr/share/doc/${PACKAGE}/raspberry-pi.md`, readFileSync(join(root, 'docs/raspberry-pi.md')));
put(
  `usr/share/man/man1/${PACKAGE}.1.gz`,
  gzipSync(readFileSync(join(root, 'packaging/deb/bookrec-agent.1')), { level: 9 }),
);

// DEBIAN/: control, conffiles, maintainer scripts, md5sums.
const payload = filesUnder(stage).map((f) => relative(stage, f));
const sizeKiB = Math.ceil(payload.reduce((sum, f) => sum + statSync(join(stage, f)).size, 0) / 1024);
put(
  'DEBIAN/control',
  control.replace('@VERSION@', project.version).replace('@INSTALLED_SIZE@', String(sizeKiB)),
);
put('DEBIAN/conffiles', '/etc/bookrec/agent.json\n');
for (const script of ['postinst', 'prerm', 'postrm'])
  put(`DEBIAN/${script}`, readFileSync(join(root, 'packaging/deb', script)), 0o755);
put(
  'DEBIAN/md5sums',
  payload
    .filter((f) => !f.startsWith('etc/'))
    .sort()
    .map(
      (f) =>
        `${createHash('md5')
          .update(readFileSync(join(stage, f)))
          .digest('hex')}  ${f}\n`,
    )
    .join(''),
);
for (const dir of filesUnder(stage).map((f) => dirname(f))) chmodSync(dir, 0o755);
chmodSync(stage, 0o755);

const deb = join(outDir, `${PACKAGE}_${project.version}_all.deb`);
execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, SOURCE_DATE_EPOCH: String(Math.floor(date.getTime() / 1000)) },
});
console.log(
  `${relative(root, deb)}: ${(statSync(deb).size / 2 ** 20).toFixed(1)} MB, installs ${(sizeKiB / 1024).toFixed(1)} MB; ${packages.length} npm packages (${roots.join(', ')} and theirs); only the Node bundle of ${bundled.join(', ')}; left out: ${Object.entries(
    LEFT_OUT,
  )
    .map(([name, why]) => `${name} (${why})`)
    .join('; ')}`,
);
