import { join } from 'node:path';
import type { AgentConfig } from './config.js';
import { AplaySink } from './speech/aplaySink.js';
import { EspeakTts } from './speech/espeakTts.js';
import { SayTts } from './speech/sayTts.js';
import { type AudioSink, silentSink, type Tts } from './speech/tts.js';

/** The speech adapters the settings choose: engine + player (GPIO: signals/gpio/buttonSource.ts). */

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
