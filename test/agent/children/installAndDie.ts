/**
 * A child process for the crash test: installs the release in argv[3] (a package folder, version
 * argv[4]) into the state dir argv[2] and is SIGKILLed by its own hook between staging and the switch,
 * the worst moment for the device: the new model is on disk, current still names the old one.
 */

import { ModelStore } from '../../../agent/modelStore.js';
import { createMemoryLogger } from '../../../common/log.js';
import { useBackend } from '../../../common/model/backend.js';
import { testKey } from '../../helpers/release.js';
import { releaseOf } from '../helpers.js';

await useBackend('wasm');
const [stateDir, pkgDir, version] = process.argv.slice(2);
const store = new ModelStore({
  stateDir,
  log: createMemoryLogger(),
  beforeSwitch: async () => {
    process.kill(process.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 10_000));
  },
});
await store.start();
await store.install(await releaseOf(testKey(), pkgDir, Number(version)));
process.stdout.write('switched: the kill did not happen\n');
