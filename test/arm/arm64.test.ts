import t from 'tap';
import { armSmoke } from './armSmoke.js';

/** 64-bit Raspberry Pi OS (Pi 3, 4, 5, Zero 2 W): Debian bookworm's arm64 nodejs under qemu-aarch64-static. */
t.test('the agent on arm64: signed release, signals, an answer from the model, clean stop', (t) =>
  armSmoke(t, 'arm64'),
);
