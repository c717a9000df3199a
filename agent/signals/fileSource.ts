import { join } from 'node:path';
import { JsonlFollower } from './jsonlFollower.js';
import type { SignalSourceFactory } from './source.js';

/** signals.file: a JSONL file a player or e-reader app appends to, followed like `tail -F`. */
export const fileSource: SignalSourceFactory = ({ config, sink, log }) => {
  if (!config.signals.file) return undefined;
  const follower = new JsonlFollower({
    file: config.signals.file,
    positionFile: join(config.stateDir, 'signals.pos'),
    pollMs: config.signals.pollMs,
    maxLineBytes: config.signals.maxLineBytes,
    log,
    onLine: (line) => sink.text(line),
  });
  return { name: 'file', needs: 'local', start: () => follower.start(), stop: () => follower.stop() };
};
