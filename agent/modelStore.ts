import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, readFile, readlink, rename, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncDir, writeFileAtomic } from '../common/atomicFile.js';
import { BookrecError, errorMessage } from '../common/errors.js';
import type { EngineLoader } from '../common/inference/engine.js';
import { nodePackageSource } from '../common/inference/nodePackageSource.js';
import type { OpenModel } from '../common/inference/openModel.js';
import { openTested } from '../common/inference/openTested.js';
import type { Logger } from '../common/log.js';
import type { ReceivedRelease } from '../common/protocol/receiver.js';
import type { DeviceReleaseState } from '../common/protocol/versionRule.js';
import { STATE_DIR_MODE, STATE_FILE_MODE } from './stateDir.js';

/**
 * The device's installed models, on disk and in memory. Layout under the state directory:
 *
 *   models/<version>/          one folder per installed release (package files + release.json)
 *   models/.staging-<...>/     a release being written; never loaded, removed on start
 *   current -> models/<v>      the model in use: a symlink replaced by rename(2), so at every instant,
 *   previous -> models/<v>     also across a crash or power cut, it names a complete, tested folder
 *
 * Install order: write every file into a staging folder and fsync it -> load it and self-test it ->
 * rename it to models/<version> -> point previous at the old current -> point current at the new one.
 * A crash before the last rename leaves current on the old model; the next start loads that and prunes
 * the rest. Only current and previous are kept.
 */

/** What a release folder records beside the package: where it came from. */
export interface ReleaseInfo {
  channel: string;
  model: string;
  version: number;
  serial: number;
  installedAt: string;
}

/** A model ready to rank (common/inference), with the release it came from and its folder. */
export interface ActiveModel extends OpenModel {
  release: ReleaseInfo;
  dir: string;
}

export interface ModelStoreContext {
  stateDir: string;
  log: Logger;
  /** The engine for models the JS engine does not run (tfjs, loaded only when a package needs it). */
  loadOther?: EngineLoader;
  /** Test hook: runs between staging and the switch (a crash there must leave the old model in use). */
  beforeSwitch?: (version: number) => Promise<void>;
}

const RELEASE_FILE = 'release.json';

export class ModelStore {
  private readonly ctx: ModelStoreContext;
  private active: ActiveModel | undefined;

  constructor(ctx: ModelStoreContext) {
    this.ctx = ctx;
  }

  get modelsDir(): string {
    return join(this.ctx.stateDir, 'models');
  }

  get current(): ActiveModel | undefined {
    return this.active;
  }

  /** For the receiver's version rule: what is installed and the serial it came with. */
  state(): DeviceReleaseState {
    const r = this.active?.release;
    return { installedVersion: r?.version ?? null, lastSerial: r?.serial ?? null };
  }

  /**
   * Loads current (else previous) from disk, with no network: a device without a working model still
   * starts (and recommends nothing until a release arrives). Leftover staging folders are removed.
   */
  async start(): Promise<ActiveModel | undefined> {
    await mkdir(this.modelsDir, { recursive: true, mode: STATE_DIR_MODE });
    for (const link of ['current', 'previous']) {
      const target = await this.linkTarget(link);
      if (target === undefined) continue;
      try {
        this.active = await loadAndTest(join(this.ctx.stateDir, target), this.ctx.loadOther);
        if (link === 'previous') {
          this.ctx.log.warn('current model unusable: using the previous one', { dir: target });
          await this.pointLink('current', target);
        }
        break;
      } catch (err) {
        this.ctx.log.error('installed model does not load', { link, dir: target, error: errorMessage(err) });
      }
    }
    await this.prune();
    if (this.active) {
      const { version, model } = this.active.release;
      this.ctx.log.info('model loaded from disk', { version, model, books: this.active.catalogue.length });
    } else this.ctx.log.warn('no installed model: recommendations wait for the first release');
    return this.active;
  }

  async stop(): Promise<void> {
    this.active?.engine.dispose();
    this.active = undefined;
  }

  /**
   * Installs a verified release: stage, load and self-test, switch. Throws (and changes nothing that is
   * in use) when the package does not load or fails the self-test. Returns the new active model; the old
   * one is disposed.
   */
  async install(release: ReceivedRelease): Promise<ActiveModel> {
    const { manifest } = release;
    const staging = join(this.modelsDir, `.staging-${manifest.version}-${randomBytes(4).toString('hex')}`);
    let loaded: ActiveModel | undefined;
    try {
      await mkdir(staging, { mode: STATE_DIR_MODE });
      for (const f of release.files) await writeDurable(join(staging, f.name), f.data);
      const info: ReleaseInfo = {
        channel: manifest.channel,
        model: manifest.model,
        version: manifest.version,
        serial: manifest.serial,
        installedAt: new Date().toISOString(),
      };
      await writeFileAtomic(
        join(staging, RELEASE_FILE),
        `${JSON.stringify(info, null, 2)}\n`,
        STATE_FILE_MODE,
      );
      await fsyncDir(staging);
      loaded = await loadAndTest(staging, this.ctx.loadOther);
      const final = join(this.modelsDir, String(manifest.version));
      // A folder of this version can exist (a rollback to a release installed before, or a crash after
      // the rename last time); it is not current, so it can go.
      if (final === (await this.currentDir())) {
        throw new BookrecError('INSTALL_FAILED', `version ${manifest.version} is the model in use`);
      }
      await rm(final, { recursive: true, force: true });
      await rename(staging, final);
      await fsyncDir(this.modelsDir);
      loaded = { ...loaded, dir: final };
      await this.ctx.beforeSwitch?.(manifest.version);
      const old = await this.linkTarget('current');
      if (old !== undefined) await this.pointLink('previous', old);
      await this.pointLink('current', join('models', String(manifest.version)));
    } catch (err) {
      loaded?.engine.dispose();
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
    const before = this.active;
    this.active = loaded;
    before?.engine.dispose();
    await this.prune().catch((err: unknown) =>
      this.ctx.log.warn('pruning old models failed', { error: errorMessage(err) }),
    );
    return loaded;
  }

  /** Replaces `name` atomically: a temp symlink renamed over it, then the folder fsynced. */
  private async pointLink(name: string, target: string): Promise<void> {
    const path = join(this.ctx.stateDir, name);
    const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
    await symlink(target, tmp);
    try {
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    await fsyncDir(this.ctx.stateDir);
  }

  /** A link's target relative to the state dir, or undefined when there is no such link. */
  private async linkTarget(name: string): Promise<string | undefined> {
    try {
      return await readlink(join(this.ctx.stateDir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private async currentDir(): Promise<string | undefined> {
    const t = await this.linkTarget('current');
    return t === undefined ? undefined : join(this.ctx.stateDir, t);
  }

  /** Removes staging leftovers and every version folder that neither link names. */
  private async prune(): Promise<void> {
    const keep = new Set<string>();
    for (const link of ['current', 'previous']) {
      const t = await this.linkTarget(link);
      if (t !== undefined) keep.add(join(this.ctx.stateDir, t));
    }
    for (const name of await readdir(this.modelsDir)) {
      const path = join(this.modelsDir, name);
      if (keep.has(path)) continue;
      this.ctx.log.debug('removing old model folder', { dir: name });
      await rm(path, { recursive: true, force: true });
    }
    // Stray temp links from a crash inside pointLink.
    for (const name of await readdir(this.ctx.stateDir)) {
      if (/^(current|previous)\.tmp-/.test(name)) await rm(join(this.ctx.stateDir, name), { force: true });
    }
  }
}

/** Writes a file of a release and fsyncs it; the name was checked by the manifest rules (no `..`). */
async function writeDurable(path: string, data: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: STATE_DIR_MODE });
  const handle = await open(path, 'wx', STATE_FILE_MODE);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Reads a version folder completely and self-tests it; the engine is disposed on any failure. */
export async function loadAndTest(dir: string, loadOther?: EngineLoader): Promise<ActiveModel> {
  const release = await readRelease(dir);
  const model = await openTested(nodePackageSource(dir), { loadOther });
  return { ...model, release, dir };
}

async function readRelease(dir: string): Promise<ReleaseInfo> {
  const path = join(dir, RELEASE_FILE);
  let value: unknown;
  try {
    await lstat(path);
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new BookrecError('MODEL_STORE', `${path}: ${errorMessage(err)}`, { cause: err });
  }
  const o = value as Partial<ReleaseInfo> | null;
  if (
    o === null ||
    typeof o !== 'object' ||
    typeof o.channel !== 'string' ||
    typeof o.model !== 'string' ||
    !Number.isSafeInteger(o.version) ||
    !Number.isSafeInteger(o.serial)
  ) {
    throw new BookrecError('MODEL_STORE', `${path}: not a release record`);
  }
  return o as ReleaseInfo;
}
