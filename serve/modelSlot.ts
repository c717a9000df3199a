import type { OpenModel } from '../common/inference/openModel.js';
import type { SignedManifest } from '../common/protocol/manifest.js';
import type { DeviceReleaseState } from '../common/protocol/versionRule.js';

/** A model that passed its checks and self-test, with where it came from. */
export interface ServedModel {
  model: OpenModel;
  /** The model's name and version: the release's when it came from a channel, else the package's id. */
  name: string;
  version: number | null;
  from: 'package' | 'channel';
  /** The signed manifest the files were verified against, when there is one (the phone page needs it). */
  signed?: { manifest: SignedManifest; files: ReadonlyMap<string, Uint8Array> };
}

/**
 * The model in service, replaced in one assignment. A request takes the model once and ranks with it
 * synchronously (rank() never awaits), so a swap can never meet a request half-way: requests before it
 * use the old model, requests after it the new one, and none fails. The old engine is disposed at once.
 */
export class ModelSlot {
  private served: ServedModel | undefined;
  swaps = 0;

  /** `onChange` hears every change (metrics): the model now in service, and whether one was replaced. */
  constructor(private readonly onChange?: (served: ServedModel | undefined, swapped: boolean) => void) {}

  get current(): ServedModel | undefined {
    return this.served;
  }

  /** For the release receiver's version rule, as a device's model store answers it. */
  state(): DeviceReleaseState {
    const m = this.served?.signed?.manifest;
    return { installedVersion: m?.version ?? null, lastSerial: m?.serial ?? null };
  }

  swap(next: ServedModel): void {
    const before = this.served;
    this.served = next;
    if (before) this.swaps++;
    before?.model.engine.dispose();
    this.onChange?.(next, before !== undefined);
  }

  clear(): void {
    this.served?.model.engine.dispose();
    this.served = undefined;
    this.onChange?.(undefined, false);
  }
}
