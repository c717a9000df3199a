import type { ExecFileException } from 'node:child_process';

/**
 * One short line for a player or speech engine that failed: what ran, how it ended, and the last line of
 * its stderr. execFile's own message repeats the command and the whole stderr, and ALSA writes a dozen
 * "ALSA lib ..." lines before aplay's own "audio open error": logged as is, every answer on a speaker
 * without a sound card dumped them twice.
 */
export function programFailure(what: string, err: ExecFileException, stderr: unknown): string {
  if (err.code === 'ENOENT') return `${what}: not installed`;
  const how = err.killed ? `stopped (${err.signal ?? 'timeout'})` : `exit ${err.code ?? err.signal}`;
  const last = lastLine(String(stderr ?? ''));
  return `${what}: ${how}${last ? `: ${last}` : ''}`;
}

const MAX_CHARS = 200;

/** The last non-empty line, without a program's "name: function:line: " prefix (aplay: main:831: ...). */
function lastLine(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const line = (lines.at(-1) ?? '').replace(/^[\w.-]+: \w+:\d+: /, '');
  return line.replace(/\p{Cc}/gu, ' ').slice(0, MAX_CHARS);
}
