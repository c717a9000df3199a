import { createLogger, type LogFields, type Logger, type LogLevel } from '../common/log.js';

/**
 * A logger for hundreds of in-process agents: lines go to a bounded ring (the newest `max` kept,
 * older ones dropped and counted), never to stdout, so 200 agents cannot flood the terminal or grow
 * memory. The simulator prints the warnings/errors it kept when something goes wrong.
 */
export interface RingLogger extends Logger {
  /** The kept lines, oldest first. */
  lines(): LogFields[];
  /** Lines dropped because the ring was full. */
  dropped(): number;
}

export function createRingLogger(level: LogLevel, max = 2000): RingLogger {
  const ring: string[] = [];
  let dropped = 0;
  const logger = createLogger({
    level,
    sink: (line) => {
      ring.push(line);
      if (ring.length > max) {
        ring.shift();
        dropped++;
      }
    },
  });
  return Object.assign(logger, {
    lines: () => ring.map((l) => JSON.parse(l) as LogFields),
    dropped: () => dropped,
  });
}
