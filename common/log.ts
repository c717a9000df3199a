/**
 * Structured JSON-lines logging for journald, with namespaces and levels. No module-level singleton:
 * the host makes a Logger and hands it to what needs one, tests hand in a Logger that collects lines.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

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
}

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
    const extra = typeof fields === 'function' ? fields() : (fields ?? {});
    sink(JSON.stringify({ time: clock().toISOString(), level, ns: namespace, msg, ...redact(extra) }));
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
