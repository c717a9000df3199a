import t from 'tap';
import { armSmoke } from './armSmoke.js';

/** 32-bit Raspberry Pi OS (Pi Zero 2 W, Pi 3 on a 32-bit OS): Debian bookworm's armhf nodejs under qemu-arm-static. */
t.test('the agent on armhf: signed release, signals, an answer from the model, clean stop', (t) =>
  armSmoke(t, 'armhf'),
);
