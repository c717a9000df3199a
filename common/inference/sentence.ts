import { firstAuthor, plainTitle, type Ranking } from './ranking.js';

/**
 * The spoken form of a recommendation: one natural sentence, titles without their "(Series, #n)" tail,
 * first authors only. "Because you finished The Hobbit, you might enjoy Dune by Frank Herbert, Emma by
 * Jane Austen, and Ubik by Philip K. Dick."
 */
export function sentenceFor(rec: Pick<Ranking, 'books' | 'reason' | 'source'>): string {
  if (rec.books.length === 0) return 'I have no new book to suggest right now.';
  const items = rec.books.map((b) => `${plainTitle(b.title)} by ${firstAuthor(b.authors)}`);
  const list =
    items.length === 1
      ? items[0]
      : items.length === 2
        ? `${items[0]} and ${items[1]}`
        : `${items.slice(0, -1).join(', ')}, and ${items[items.length - 1]}`;
  if (rec.source === 'fallback') return `Here are some books other readers love: ${list}.`;
  const lead = rec.reason.charAt(0).toUpperCase() + rec.reason.slice(1);
  return `${lead}, you might enjoy ${list}.`;
}
