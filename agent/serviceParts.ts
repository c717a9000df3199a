import { join } from 'node:path';
import type { Logger } from '../common/log.js';
import type { AgentConfig } from './config.js';
import { type ButtonAction, Buttons } from './signals/gpio/buttons.js';
import { FakeGpio } from './signals/gpio/fakeGpio.js';
import { FileGpio } from './signals/gpio/fileGpio.js';
import type { GpioLines } from './signals/gpio/gpio.js';
import { GpiomonGpio } from './signals/gpio/gpiomonGpio.js';
import { OnoffGpio } from './signals/gpio/onoffGpio.js';
import { AplaySink } from './speech/aplaySink.js';
import { EspeakTts } from './speech/espeakTts.js';
import { SayTts } from './speech/sayTts.js';
import { type AudioSink, silentSink, type Tts } from './speech/tts.js';

/** The adapters the settings choose: speech engine + player, GPIO backend + buttons. */

export function buildTts(config: AgentConfig, sink?: AudioSink): Tts | undefined {
  switch (config.tts.engine) {
    case 'none':
      return undefined;
    case 'festival':
      return new SayTts({ voice: config.tts.voice === 'en' ? '' : config.tts.voice });
    case 'espeak-ng':
      return new EspeakTts({
        dir: join(config.stateDir, 'speech'),
        voice: config.tts.voice,
        rate: config.tts.rate,
        sink:
          sink ??
          (config.audio.sink === 'aplay' ? new AplaySink({ device: config.audio.device }) : silentSink),
      });
  }
}

export function buildGpio(config: AgentConfig, log: Logger): GpioLines | undefined {
  const g = config.gpio;
  switch (g.backend) {
    case 'none':
      return undefined;
    case 'fake':
      return new FakeGpio({ activeLow: g.activeLow });
    case 'onoff':
      return new OnoffGpio({ sysfsRoot: g.sysfsRoot, chip: g.chip });
    case 'file':
      return new FileGpio({ file: g.linesFile });
    case 'gpiomon':
      return new GpiomonGpio({ chip: g.chip, bias: g.activeLow ? 'pull-up' : 'pull-down', log });
  }
}

export function buildButtons(
  config: AgentConfig,
  injected: GpioLines | undefined,
  log: Logger,
  onPress: (action: ButtonAction) => void,
): Buttons | undefined {
  const gpio = injected ?? buildGpio(config, log);
  if (!gpio) return undefined;
  const g = config.gpio;
  const pins = new Map<number, ButtonAction>();
  if (g.recommendPin >= 0) pins.set(g.recommendPin, 'recommend');
  if (g.likePin >= 0) pins.set(g.likePin, 'like');
  if (g.skipPin >= 0) pins.set(g.skipPin, 'skip');
  return new Buttons({ gpio, pins, activeLow: g.activeLow, debounceMs: g.debounceMs, onPress });
}
