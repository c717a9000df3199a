/**
 * What a person would see after a stream of terminal output: the few controls the CLI's screen and
 * cli-progress write (CR, LF, erase line or its right part, column moves, cursor save/restore, modes
 * that change nothing on the page), applied to a grid of lines. Enough to tell a log line printed
 * whole on its own line from one glued to a bar.
 */
export function screenLines(output: string): string[] {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  let saved = { row: 0, col: 0 };
  const line = () => {
    while (rows.length <= row) rows.push([]);
    return rows[row];
  };
  const chars = Array.from(output);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '\r') col = 0;
    else if (c === '\n') {
      row++;
      col = 0;
    } else if (c === '\x1b' && chars[i + 1] === '7') {
      saved = { row, col };
      i++;
    } else if (c === '\x1b' && chars[i + 1] === '8') {
      ({ row, col } = saved);
      i++;
    } else if (c === '\x1b' && chars[i + 1] === '[') {
      let j = i + 2;
      while (j < chars.length && !/[A-Za-z]/.test(chars[j])) j++;
      const args = chars.slice(i + 2, j).join('');
      const n = Number.parseInt(args.replace('?', ''), 10);
      if (chars[j] === 'K' && (args === '' || args === '0')) line().length = Math.min(line().length, col);
      else if (chars[j] === 'K') line().length = 0;
      else if (chars[j] === 'G') col = Number.isNaN(n) ? 0 : n - 1;
      i = j;
    } else {
      const l = line();
      while (l.length < col) l.push(' ');
      l[col++] = c;
    }
  }
  return rows.map((r) => r.join('').trimEnd());
}
