import type { BookEntry, Catalogue } from '../../../common/model/catalogue.js';

/**
 * From an audiobook's tags to a book of the installed catalogue. The title comes from the album tag
 * (an audiobook is an album of chapters), else `work`, else the track title (a book in one file); the
 * author from albumartist, artist or composer (taggers put the author and the narrator in either).
 * Titles on both sides are normalised the same way: case, accents, punctuation and "&", a leading
 * article, goodbooks' series part "(Stephanie Plum, #7)", and what audiobook releases add ("Unabridged",
 * "Book 1", "A Novel", "A Jack Reacher Novel", "Disc 2", ...). A book matches when its title does and
 * one of its authors' surnames is among the tags' names. One such book is a match; several are
 * ambiguous; none is unknown. Nothing is guessed: the title alone never decides.
 */
export interface AudioTags {
  album?: string;
  work?: string;
  title?: string;
  /** Albumartist, artist and composer values, as many as the file has. */
  names: readonly string[];
}

export type TagMatch =
  | { kind: 'book'; book: BookEntry }
  | { kind: 'ambiguous'; books: BookEntry[] }
  | { kind: 'unknown'; reason: string };

/** The tag that names the book: album, else work, else title. */
export function bookTitleTag(tags: AudioTags): string | undefined {
  return [tags.album, tags.work, tags.title].find((v) => v !== undefined && v.trim() !== '');
}

const NUMBER_WORDS = 'one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve';
const COUNT = `(?:\\d{1,3}|${NUMBER_WORDS})`;
/** What releases put after a title, in brackets or after a separator; matched on folded text. */
const NOISE = [
  'unabridged',
  'abridged',
  'audio ?book',
  'audio',
  // "A Novel", "A Stephanie Plum Novel"; never "Graphic Novel", which is another book.
  'an? (?:[a-z0-9]+ ){0,3}novel',
  `(?:book|volume|vol\\.?|part|disc|cd) ?${COUNT}`,
  'retail',
  'dramatized',
  'mp3',
].join('|');
const BRACKET_NOISE = new RegExp(`\\s*[([](?:${NOISE})(?:[,;]? ?(?:${NOISE}))*[)\\]]\\s*$`);
const SUFFIX_NOISE = new RegExp(`\\s*(?:[,:;]|\\s[-–—])\\s*(?:${NOISE})\\s*$`);
/** Library order: "Hobbit, The". */
const LIBRARY_ARTICLE = /,\s*(?:the|a|an)$/;
/** A series part: goodbooks' "(Stephanie Plum, #7)", "(Dune Chronicles #1)"; "[Earthsea Cycle, Book 1]". */
const SERIES_PART = new RegExp(
  `\\s*[([][^()[\\]]*(?:#\\s*\\d[\\d.\\-–]*|\\b(?:book|vol\\.?|volume|part) ?${COUNT})[)\\]]\\s*$`,
);
/** "Stephanie Plum 07 - Seven Up", "Book 3: The Return": a series number before the title. */
const NUMBERED_PREFIX = new RegExp(`^(?:[^:–—]+?\\s)?#?${COUNT}\\s*(?:[:–—]|\\s-)\\s+`);

function fold(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/&/g, ' and ');
}

/** Removes series parts and release noise from the end, as often as they are stacked. */
function stripNoise(folded: string): string {
  let s = folded.trim();
  for (;;) {
    const next = s
      .replace(SERIES_PART, '')
      .replace(BRACKET_NOISE, '')
      .replace(SUFFIX_NOISE, '')
      .replace(LIBRARY_ARTICLE, '')
      .trim();
    if (next === s || next === '') return s;
    s = next;
  }
}

/** Letters and digits only, one space apart, without a leading article. */
function words(text: string): string {
  return text
    .replace(/['’`]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .replace(/^(?:the|a|an) /, '');
}

/** The normalised title: what both the catalogue and the tags are compared by. */
export function titleKey(title: string): string {
  return words(stripNoise(fold(title)));
}

/** The title before its subtitle ("Freakonomics: A Rogue Economist ..." -> "freakonomics"). */
function mainTitleKey(title: string): string | undefined {
  const folded = stripNoise(fold(title));
  const cut = folded.search(/:|\s[-–—]\s/);
  return cut > 0 ? words(folded.slice(0, cut)) : undefined;
}

/** The title without a series number before it. */
function unnumberedKey(title: string): string | undefined {
  const folded = stripNoise(fold(title));
  const rest = folded.replace(NUMBERED_PREFIX, '');
  return rest !== folded && rest !== '' ? words(rest) : undefined;
}

/** Every word of the names, and every two neighbours joined ("Le Guin" and "LeGuin" meet). */
function nameTokens(names: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const name of names) {
    const ws = words(fold(name)).split(' ').filter(Boolean);
    ws.forEach((w, i) => {
      out.add(w);
      if (i > 0) out.add(ws[i - 1] + w);
    });
    out.add(ws.join(''));
  }
  return out;
}

/** Each author's surname, alone and joined to the word before it; initials and "Jr." are no surname. */
function surnames(authors: string): string[][] {
  return authors.split(',').flatMap((author) => {
    const all = words(fold(author)).split(' ').filter(Boolean);
    const ws = all.filter((w) => w.length > 1 && !/^(?:jr|sr|ii|iii|iv|phd|md)$/.test(w));
    // A name of initials only ("S.A.R.K."): the letters together.
    if (ws.length === 0) return all.length > 0 ? [[all.join('')]] : [];
    const last = ws[ws.length - 1];
    return [ws.length > 1 ? [last, ws[ws.length - 2] + last] : [last]];
  });
}

export class TagMatcher {
  private readonly byTitle = new Map<string, BookEntry[]>();
  private readonly byMainTitle = new Map<string, BookEntry[]>();

  constructor(catalogue: Catalogue) {
    const add = (map: Map<string, BookEntry[]>, key: string | undefined, book: BookEntry) => {
      if (!key) return;
      const list = map.get(key);
      if (list) list.push(book);
      else map.set(key, [book]);
    };
    for (const book of catalogue) {
      add(this.byTitle, titleKey(book.title), book);
      add(this.byMainTitle, mainTitleKey(book.title), book);
    }
  }

  match(tags: AudioTags): TagMatch {
    const title = bookTitleTag(tags);
    if (title === undefined) return { kind: 'unknown', reason: 'no album, work or title tag' };
    const names = nameTokens(tags.names);
    if (names.size === 0) return { kind: 'unknown', reason: 'no albumartist, artist or composer tag' };
    const keys = [titleKey(title), unnumberedKey(title), mainTitleKey(title)];
    let titleOnly = false;
    for (const key of keys) {
      if (!key) continue;
      for (const map of [this.byTitle, this.byMainTitle]) {
        const candidates = map.get(key);
        if (!candidates) continue;
        const books = candidates.filter((b) => surnames(b.authors).some((s) => s.some((n) => names.has(n))));
        if (books.length === 1) return { kind: 'book', book: books[0] };
        if (books.length > 1) return { kind: 'ambiguous', books };
        titleOnly = true;
      }
    }
    return {
      kind: 'unknown',
      reason: titleOnly ? 'the title is in the catalogue, but not by these names' : 'no book with this title',
    };
  }
}
