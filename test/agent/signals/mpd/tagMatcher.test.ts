import t from 'tap';
import { type AudioTags, TagMatcher, titleKey } from '../../../../agent/signals/mpd/tagMatcher.js';
import { realBooks } from '../../helpers.js';

/**
 * Tags as audiobook releases, rippers and taggers write them, against the real goodbooks-10k catalogue:
 * each row names the book it must find, or says why it must not (ambiguous, unknown). Nothing is
 * guessed: a title without a matching author, or a title several books share, is no match.
 */
type Expect = number | { ambiguous: number[] } | { unknown: RegExp };

const TABLE: [AudioTags, Expect][] = [
  // Plain, and the usual release additions.
  [{ album: 'The Hunger Games', names: ['Suzanne Collins'] }, 1],
  [{ album: 'Hunger Games', names: ['Suzanne Collins'] }, 1],
  [{ album: 'The Hunger Games (Unabridged)', names: ['Suzanne Collins', 'Carolyn McCormick'] }, 1],
  [{ album: 'The Hunger Games, Book 1', names: ['Collins, Suzanne'] }, 1],
  [{ album: 'The Hunger Games (The Hunger Games, #1)', names: ['Suzanne Collins'] }, 1],
  [{ album: 'The Hunger Games [Audiobook]', names: ['Suzanne Collins'] }, 1],
  [{ album: 'Hobbit, The', names: ['J. R. R. Tolkien'] }, 7],
  [{ album: 'The Hobbit', names: ['JRR Tolkien', 'Andy Serkis'] }, 7],
  // Case, apostrophes (straight, curly, none), accents, "&".
  [{ album: "Harry Potter and the Sorcerer's Stone", names: ['J. K. Rowling', 'Jim Dale'] }, 2],
  [{ album: 'HARRY POTTER AND THE SORCERER’S STONE', names: ['J.K. Rowling'] }, 2],
  [{ album: 'Harry Potter and the Sorcerers Stone [Unabridged]', names: ['Rowling, J.K.'] }, 2],
  [{ album: 'How the Garcia Girls Lost Their Accents', names: ['Julia Álvarez'] }, 5456],
  [{ album: 'One Hundred Years of Solitude', names: ['Gabriel Garcia Marquez'] }, 94],
  [{ album: 'Pride & Prejudice', names: ['Jane Austen', 'Rosamund Pike'] }, 10],
  // Series in every spelling: goodbooks' own, a "Novel" subtitle, a numbered prefix, a suffix.
  [{ album: 'Seven Up (Stephanie Plum, #7)', names: ['Janet Evanovich'] }, 1226],
  [{ album: 'Seven Up: A Stephanie Plum Novel', names: ['Janet Evanovich', 'Lorelei King'] }, 1226],
  [{ album: 'Stephanie Plum 07 - Seven Up', names: ['Janet Evanovich'] }, 1226],
  [{ album: 'Seven Up - Unabridged', names: ['Evanovich, Janet'] }, 1226],
  [{ album: 'The Lord of the Rings, Book 2: The Two Towers', names: ['J.R.R. Tolkien', 'Rob Inglis'] }, 155],
  [{ album: "Harry Potter 1 - Harry Potter and the Sorcerer's Stone", names: ['J.K. Rowling'] }, 2],
  [{ album: 'Dune', names: ['Frank Herbert', 'Scott Brick'] }, 126],
  [{ album: 'A Wizard of Earthsea (Earthsea Cycle, Book 1)', names: ['Ursula K. LeGuin'] }, 593],
  // Subtitles on either side.
  [{ album: 'Freakonomics', names: ['Steven D. Levitt', 'Stephen J. Dubner'] }, 92],
  [{ album: 'Sapiens', names: ['Yuval Noah Harari'] }, 2205],
  [{ album: 'Sapiens: A Brief History of Humankind (Unabridged)', names: ['Yuval Noah Harari'] }, 2205],
  // Where the title is: work, or the track title for a book in one file.
  [{ work: 'To Kill a Mockingbird', title: 'Part 1', names: ['Harper Lee', 'Sissy Spacek'] }, 4],
  [{ title: 'The Great Gatsby', names: ['F. Scott Fitzgerald'] }, 5],
  // The author decides between books of one title.
  [{ album: 'Twilight', names: ['Stephenie Meyer'] }, 3],
  [{ album: 'Twilight', names: ['Meg Cabot'] }, 4234],
  [{ album: 'Stone Soup', names: ['Jon J. Muth'] }, 8969],
  [{ album: 'It', names: ['Stephen King', 'Steven Weber'] }, 176],
  [{ album: 'Succulent Wild Woman', names: ['SARK'] }, 9482],
  // Never guessed: several books fit, or none does.
  [{ album: "'Salem's Lot", names: ['Stephen King'] }, { ambiguous: [349, 1292] }],
  [{ album: 'Salems Lot (Unabridged)', names: ['Stephen King', 'Ron McLarty'] }, { ambiguous: [349, 1292] }],
  [
    { album: 'Conversations with God, Book 1', names: ['Neale Donald Walsch'] },
    { ambiguous: [3821, 4157, 6240] },
  ],
  [{ album: 'Stone Soup', names: ['A Narrator'] }, { unknown: /not by these names/ }],
  [{ album: 'It', names: ['Steven Weber'] }, { unknown: /not by these names/ }],
  [
    { album: "Harry Potter and the Philosopher's Stone", names: ['J.K. Rowling'] },
    { unknown: /no book with this title/ },
  ],
  [{ album: 'Abbey Road', names: ['The Beatles'] }, { unknown: /no book/ }],
  [{ album: 'The Hobbit', names: [] }, { unknown: /no albumartist, artist or composer/ }],
  [{ names: ['J.R.R. Tolkien'] }, { unknown: /no album, work or title/ }],
];

t.test('real-world tag variants against the real goodbooks-10k catalogue', async (t) => {
  const books = await realBooks(t, 10_000);
  if (!books) return;
  const started = performance.now();
  const matcher = new TagMatcher(books);
  t.comment(`index of ${books.length} books built in ${(performance.now() - started).toFixed(0)} ms`);
  for (const [tags, expected] of TABLE) {
    const what = JSON.stringify(tags);
    const got = matcher.match(tags);
    if (typeof expected === 'number') {
      t.match(got, { kind: 'book', book: { id: expected } }, what);
    } else if ('ambiguous' in expected) {
      t.same(
        got.kind === 'ambiguous' ? got.books.map((b) => b.id).sort((a, b) => a - b) : got,
        expected.ambiguous,
        what,
      );
    } else {
      t.match(got, { kind: 'unknown', reason: expected.unknown }, what);
    }
  }
});

t.test('title keys: what is folded away and what is kept', async (t) => {
  t.equal(titleKey('The Hunger Games (The Hunger Games, #1)'), 'hunger games');
  t.equal(titleKey('Dune (Dune Chronicles #1)'), 'dune');
  t.equal(titleKey('Ishmael:A Novel'), 'ishmael');
  t.equal(titleKey('Seven Up (Unabridged) (Stephanie Plum, #7)'), 'seven up');
  t.equal(titleKey('The Hobbit: Graphic Novel'), 'hobbit graphic novel', 'a graphic novel is another book');
  t.equal(titleKey('Catch-22'), 'catch 22');
  t.equal(titleKey('(Unabridged)'), 'unabridged', 'nothing but noise: kept rather than emptied');
});
