import { BookrecError } from './errors.js';

/**
 * JSON with comments, for config files a person edits (the Debian package's /etc/bookrec/agent.json
 * explains every key beside it): `//` to the end of the line and `/* ... *\/` outside strings are
 * removed, everything else is strict JSON (no trailing commas, double quotes). Comments are replaced by
 * spaces, not cut out, so a syntax error's position is still the position in the file; the error names
 * the line and column. `//` inside a string ("mqtt://host") is text, not a comment.
 */
export function stripJsonComments(text: string): string {
  const out = text.split('');
  let inString = false;
  for (let i = 0; i < out.length; i++) {
    const c = out[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '/' && out[i + 1] === '/') {
      for (; i < out.length && out[i] !== '\n'; i++) out[i] = ' ';
    } else if (c === '/' && out[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new SyntaxError(`unterminated /* comment at position ${i}`);
      for (; i < end + 2; i++) if (out[i] !== '\n') out[i] = ' ';
      i--;
    }
  }
  return out.join('');
}

/** "line L, column C" of a character offset (both from 1). */
function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/** Parses JSON with comments; a syntax error is a BookrecError that names `what` and the line. */
export function parseJsonWithComments(text: string, what: string): unknown {
  try {
    return JSON.parse(stripJsonComments(text));
  } catch (err) {
    const message = (err as Error).message;
    // V8 says where ("... at position 57") for most errors; the end of the text when it ran out.
    const at = /position (\d+)/.exec(message);
    const where = at
      ? ` at ${lineAndColumn(text, Number(at[1]))}`
      : /end of (JSON|data) input/i.test(message)
        ? ' at the end of the file'
        : '';
    throw new BookrecError('CONFIG_FILE', `${what}: not valid JSON${where} (${message})`);
  }
}
