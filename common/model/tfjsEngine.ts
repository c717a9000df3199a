import type { EngineLoader } from '../inference/engine.js';
import type { Logger } from '../log.js';
import { type BackendName, useBackend } from './backend.js';
import { loadPackageModel } from './modelPackage.js';
import { scoreWithModel } from './score.js';

/**
 * The engine for models the JS engine does not run (the MLP students): tfjs on the configured backend.
 * Imported lazily by the hosts (agent, server), so a device whose model is the sparse student never
 * loads tfjs at all.
 */
export function tfjsEngineLoader(options: { backend: BackendName; log?: Logger }): EngineLoader {
  return async (pkg) => {
    const backend = await useBackend(options.backend, options.log);
    const model = await loadPackageModel(pkg);
    const items = pkg.catalogue.length;
    return {
      kind: `tfjs-${backend}`,
      items,
      score: (inputs) => scoreWithModel(model, inputs, items),
      dispose: () => model.dispose(),
    };
  };
}
