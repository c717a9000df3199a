import { fileSource } from './signals/fileSource.js';
import { buttonSource } from './signals/gpio/buttonSource.js';
import { mpdSource } from './signals/mpd/mpdSource.js';
import { mqttSource } from './signals/mqttSignals.js';
import type { SignalSourceFactory } from './signals/source.js';

/** Every way signals reach the agent; each factory returns undefined when its settings leave it off. */
export const SIGNAL_SOURCES: readonly SignalSourceFactory[] = [
  fileSource,
  mqttSource,
  buttonSource,
  mpdSource,
];
