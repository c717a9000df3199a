import { errorMessage } from '../../../common/errors.js';
import type { Logger } from '../../../common/log.js';
import type { AgentConfig } from '../../config.js';
import type { SignalSourceFactory } from '../source.js';
import { type ButtonAction, Buttons } from './buttons.js';
import { FakeGpio } from './fakeGpio.js';
import { FileGpio } from './fileGpio.js';
import type { GpioLines } from './gpio.js';
import { GpiomonGpio } from './gpiomonGpio.js';
import { OnoffGpio } from './onoffGpio.js';

/**
 * gpio.*: buttons on GPIO lines. Recommend asks for books; like and skip become signals about the book
 * the speaker named first in its last answer.
 */
export const buttonSource: SignalSourceFactory = ({ config, sink, log, gpio }) => {
  const lines = gpio ?? buildGpio(config, log);
  if (!lines) return undefined;
  const g = config.gpio;
  const pins = new Map<number, ButtonAction>();
  if (g.recommendPin >= 0) pins.set(g.recommendPin, 'recommend');
  if (g.likePin >= 0) pins.set(g.likePin, 'like');
  if (g.skipPin >= 0) pins.set(g.skipPin, 'skip');
  const onPress = (action: ButtonAction) => {
    if (action === 'recommend') {
      sink.ask();
      return;
    }
    const bookId = sink.lastAnswerBook();
    if (bookId === undefined) return;
    sink
      .signal({ bookId, kind: action === 'like' ? 'liked' : 'skipped', at: Date.now() })
      .catch((err: unknown) => log.error('storing a button signal failed', { error: errorMessage(err) }));
  };
  const buttons = new Buttons({
    gpio: lines,
    pins,
    activeLow: g.activeLow,
    debounceMs: g.debounceMs,
    onPress,
  });
  return { name: 'gpio', needs: 'local', start: () => buttons.start(), stop: () => buttons.stop() };
};

/** The GPIO backend the settings choose. */
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
