/**
 * The text form of a log line, for a person at a terminal. Fields can hold what a stranger sent (a
 * Hermes siteId, a topic, an error message quoting a payload), and a terminal obeys what it prints: an
 * ESC sequence retitles or repaints it, a newline forges a line of its own. So every part is printed
 * with its control characters spelled out (`\x1b`, `\n`); only a stack keeps its lines, each indented
 * so that none can pass for a log line of its own. The JSON form needs none of this (JSON escapes).
 */

/**
 * Characters a terminal acts on rather than shows: C0, DEL and C1 controls, the Unicode line and
 * paragraph separators, and the bidi overrides and isolates (they reorder what follows on the screen).
 */
const CONTROL = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/** CONTROL without the global flag, for a test that keeps no state between calls. */
const CONTROL_TEST = new RegExp(CONTROL.source, 'u');

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `s` with each control character written out: `\n`, `\r`, `\t`, `\x1b`, `\u2028`. */
export function escapeControls(s: string): string {
  return s.replace(CONTROL, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
}

/**
 * A number as a person reads it: integers whole, fractions to 4 significant digits (0.31094827 ->
 * 0.3109, 1.39 stays), never fewer digits before the point than the number has (123456.7 -> 123457).
 */
export function roundForPeople(n: number): number {
  if (Number.isInteger(n) || !Number.isFinite(n)) return n;
  const abs = Math.abs(n);
  if (abs < 1) return Number(n.toPrecision(4));
  const whole = Math.floor(Math.log10(abs)) + 1;
  return Number(n.toFixed(Math.max(0, 4 - whole)));
}

/** `12:00:01 WARN  mqtt: reconnect attempt=2 broker="mqtt://x"`: local time, the namespace under bookrec. */
export function textLine(
  time: Date,
  level: string,
  namespace: string,
  msg: string,
  fields: Record<string, unknown>,
): string {
  const clock = [time.getHours(), time.getMinutes(), time.getSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
  const ns = escapeControls(namespace.replace(/^bookrec:?/, ''));
  const pairs = Object.entries(fields).map(([k, v]) => `${escapeControls(k)}=${plain(k, v)}`);
  return [
    clock,
    level.toUpperCase().padEnd(5),
    `${ns ? `${ns}: ` : ''}${escapeControls(msg)}`,
    ...pairs,
  ].join(' ');
}

/** A field value as a person reads it: bare words bare, other text quoted, anything else as JSON. */
function plain(key: string, v: unknown): string {
  if (typeof v === 'string') {
    if (key === 'stack' && v.includes('\n'))
      return v
        .split('\n')
        .map((line) => `\n    ${escapeControls(line)}`)
        .join('');
    return /^[^\s"=\\]+$/.test(v) && !CONTROL_TEST.test(v)
      ? v
      : `"${escapeControls(v.replace(/["\\]/g, (c) => `\\${c}`))}"`;
  }
  if (typeof v === 'number') return String(roundForPeople(v));
  if (typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return escapeControls(
    JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' ? roundForPeople(x) : x)) ?? String(v),
  );
}
