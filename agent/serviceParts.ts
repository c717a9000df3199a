import { join } from 'node:path';
import type { EngineLoader } from '../common/inference/engine.js';
import type { Logger } from '../common/log.js';
import type { AgentConfig } from './config.js';
import { AplaySink } from './speech/aplaySink.js';
import { EspeakTts } from './speech/espeakTts.js';
import { SayTts } from './speech/sayTts.js';
import { type AudioSink, silentSink, type Tts } from './speech/tts.js';

/** The adapters the settings choose: speech engine + player (GPIO: signals/gpio/buttonSource.ts), tfjs. */

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

/**
 * The engine for packages the JS engine does not run (an MLP student): tfjs, imported only when such a
 * package arrives, so a speaker running the sparse student never loads it.
 */
export function tfjsWhenNeeded(backend: AgentConfig['backend'], log: Logger): EngineLoader {
  return async (pkg) => {
    const { tfjsEngineLoader } = await import('../common/model/tfjsEngine.js');
    return tfjsEngineLoader({ backend, log })(pkg);
  };
}
