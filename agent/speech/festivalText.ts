/**
 * Makes text safe for festival's Scheme reader. The `say` package sends festival the program
 * `(SayText "<text>")` without escaping anything, so a title holding `"` ends the string early, and
 * `") (system "rm -rf ~") ("` would run a command. Escaping is fragile (festival's reader has its own
 * rules for backslashes), so this keeps only characters that cannot end or escape a string literal:
 * letters and digits (accents folded to ASCII first), space, and . , ! ? : ; ' - . Everything else,
 * quotes, backslashes and parentheses included, becomes a space; "&" is spoken as "and".
 */
export const FESTIVAL_MAX_CHARS = 1000;

export function festivalSafe(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/&/g, ' and ')
    .replace(/[^A-Za-z0-9 .,!?:;'-]/g, ' ')
    .replace(/ +/g, ' ')
    .trim()
    .slice(0, FESTIVAL_MAX_CHARS);
}
