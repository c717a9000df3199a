import { textLine } from './logText.js';

/**
 * Logging with namespaces and levels: JSON lines for journald, files and log collectors, or short
 * readable lines for a person at a terminal; under journald each line starts with the `<N>` syslog
 * priority systemd reads, so `journalctl -p warning` filters. No module-level singleton: the host makes
 * a Logger and hands it to what needs one, tests hand in a Logger that collects lines.
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFields = Record<string, unknown>;
export type LogSink = (line: string) => void;

export interface Logger {
  debug(msg: string, fields?: LogFields | (() => LogFields)): void;
  info(msg: string, fields?: LogFields | (() => LogFields)): void;
  warn(msg: string, fields?: LogFields | (() => LogFields)): void;
  error(msg: string, fields?: LogFields | (() => LogFields)): void;
  child(namespace: string): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Per-namespace levels, e.g. { mqtt: 'debug' }; the longest matching prefix wins. */
  levels?: Record<string, LogLevel>;
  sink?: LogSink;
  clock?: () => Date;
  /** json (default): one JSON object a line; text: `12:00:01 WARN mqtt: reconnect attempt=2`. */
  format?: 'json' | 'text';
  /** Prefix each line with its syslog priority, `<3>` error to `<7>` debug (systemd's journal reads it). */
  priorities?: boolean;
}

/** syslog priorities (sd-daemon.h): err 3, warning 4, info 6, debug 7. */
const PRIORITY: Record<Exclude<LogLevel, 'silent'>, number> = { error: 3, warn: 4, info: 6, debug: 7 };

/** Keys whose values never reach a log line, whatever a caller passes. */
const SECRET_KEY = /pass(word)?|secret|token|private|credential/i;

function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : v;
  return out;
}

export function createLogger(options: LoggerOptions = {}, namespace = 'bookrec'): Logger {
  const sink = options.sink ?? ((line: string) => process.stdout.write(`${line}\n`));
  const clock = options.clock ?? (() => new Date());
  const levelFor = (ns: string): LogLevel => {
    let best: LogLevel = options.level ?? 'info';
    let bestLen = -1;
    for (const [prefix, lvl] of Object.entries(options.levels ?? {})) {
      if ((ns === prefix || ns.startsWith(`${prefix}:`)) && prefix.length > bestLen) {
        best = lvl;
        bestLen = prefix.length;
      }
    }
    return best;
  };
  const threshold = LEVEL_RANK[levelFor(namespace)];
  const emit = (level: LogLevel, msg: string, fields?: LogFields | (() => LogFields)) => {
    if (LEVEL_RANK[level] < threshold) return;
    const extra = redact(typeof fields === 'function' ? fields() : (fields ?? {}));
    const time = clock();
    const line =
      options.format === 'text'
        ? textLine(time, level, namespace, msg, extra)
        : JSON.stringify({ time: time.toISOString(), level, ns: namespace, msg, ...extra });
    sink(options.priorities ? `<${PRIORITY[level as keyof typeof PRIORITY]}>${line}` : line);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (ns) => createLogger(options, `${namespace}:${ns}`),
  };
}

/** A logger that keeps its lines in memory, for tests and for commands that print their own output. */
export function createMemoryLogger(level: LogLevel = 'debug'): Logger & { lines: LogFields[] } {
  const lines: LogFields[] = [];
  const logger = createLogger({ level, sink: (line) => lines.push(JSON.parse(line) as LogFields) });
  return Object.assign(logger, { lines });
}
