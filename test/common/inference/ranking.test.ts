import t from 'tap';
import type { OpenModel } from '../../../common/inference/openModel.js';
import {
  firstAuthor,
  type HistoryItem,
  plainTitle,
  rank,
  rankedIndices,
  seriesOf,
} from '../../../common/inference/ranking.js';
import { sentenceFor } from '../../../common/inference/sentence.js';
import { type BookEntry, catalogueIndex } from '../../../common/model/catalogue.js';
import { fixtureEncoding } from '../../helpers/modelFixture.js';

const book = (id: number, title: string, authors: string): BookEntry => ({
  id,
  title,
  authors,
  year: null,
  language: 'eng',
});
// Scores fall with the index: the engine below ignores its input and returns these.
const CATALOGUE: BookEntry[] = [
  book(1, 'The Hunger Games (The Hunger Games, #1)', 'Suzanne Collins'),
  book(2, 'Catching Fire (The Hunger Games, #2)', 'Suzanne Collins'),
  book(3, 'Mockingjay (The Hunger Games, #3)', 'Suzanne Collins'),
  book(4, "Harry Potter and the Sorcerer's Stone (Harry Potter, #1)", 'J.K. Rowling, Mary GrandPré'),
  book(5, 'Harry Potter and the Chamber of Secrets (Harry Potter, #2)', 'J.K. Rowling, Mary GrandPré'),
  book(
    6,
    'Harry Potter and the Prisoner of Azkaban (Harry Potter, #3)',
    'J.K. Rowling, Mary GrandPré, Rufus Beck',
  ),
  book(7, 'The Casual Vacancy', 'J.K. Rowling'),
  book(8, 'To Kill a Mockingbird', 'Harper Lee'),
  book(9, 'The Great Gatsby', 'F. Scott Fitzgerald'),
  book(10, 'The Hobbit', 'J.R.R. Tolkien'),
  book(11, 'Twilight (Twilight, #1)', 'Stephenie Meyer'),
  book(12, 'Pride and Prejudice', 'Jane Austen'),
];

/** A model whose engine gives every history the same scores: ranking is what is under test. */
function fixedModel(scores: number[]): OpenModel {
  const n = scores.length;
  const catalogue = CATALOGUE.slice(0, n);
  return {
    manifest: { encoding: fixtureEncoding(n), fallback: [10, 8, 9, 12] } as OpenModel['manifest'],
    catalogue,
    index: catalogueIndex(catalogue),
    engine: {
      kind: 'fixed',
      items: n,
      score(inputs) {
        const out = new Float32Array(inputs.length * n);
        for (let b = 0; b < inputs.length; b++) out.set(scores, b * n);
        return out;
      },
      dispose() {},
    },
  };
}

const model = fixedModel(CATALOGUE.map((_, i) => 100 - i));
const h = (bookId: number, kind: HistoryItem['kind'], at: number): HistoryItem => ({ bookId, kind, at });

t.test('titles: series, plain title, first author', async (t) => {
  t.equal(seriesOf('The Hunger Games (The Hunger Games, #1)'), 'the hunger games');
  t.equal(seriesOf('The Fellowship of the Ring (The Lord of the Rings, #1)'), 'the lord of the rings');
  t.equal(seriesOf('Vampire Academy (Vampire Academy, #1-3)'), 'vampire academy');
  t.equal(seriesOf('The Hobbit'), undefined);
  t.equal(seriesOf('Harry Potter (Boxed Set, #1.5)'), 'boxed set');
  t.equal(plainTitle('Catching Fire (The Hunger Games, #2)'), 'Catching Fire');
  t.equal(plainTitle('1984'), '1984');
  t.equal(firstAuthor('J.K. Rowling, Mary GrandPré'), 'J.K. Rowling');
});

t.test('drops read books, at most two per author or series, top K by score, with a reason', async (t) => {
  const history = [h(1, 'finished', 1000), h(12, 'skipped', 2000), h(9999, 'finished', 3000)];
  const rec = rank(model, history, { count: 5, now: new Date(5000) });
  t.same(
    rec.books.map((b) => b.id),
    [2, 3, 4, 5, 8],
    'book 1 (read) gone; a third Collins, a third Rowling (6, 7) skipped by the diversity rule',
  );
  t.equal(rec.source, 'model');
  t.equal(rec.reason, 'because you finished The Hunger Games');
  t.same(rec.basedOn, { id: 1, title: CATALOGUE[0].title, kind: 'finished' });
  t.same(rec.unknown, [9999], 'the book the catalogue lacks is reported');
  t.ok(rec.books.every((b) => typeof b.score === 'number'));
  t.equal(
    sentenceFor(rec),
    "Because you finished The Hunger Games, you might enjoy Catching Fire by Suzanne Collins, Mockingjay by Suzanne Collins, Harry Potter and the Sorcerer's Stone by J.K. Rowling, Harry Potter and the Chamber of Secrets by J.K. Rowling, and To Kill a Mockingbird by Harper Lee.",
  );
});

t.test('empty, unknown-only or skip-only history: the fallback list, minus books seen', async (t) => {
  const empty = rank(model, [], { count: 3 });
  t.equal(empty.source, 'fallback');
  t.same(
    empty.books.map((b) => b.id),
    [10, 8, 9],
  );
  t.equal(empty.reason, 'popular with other readers');
  t.equal(empty.basedOn, null);
  t.match(
    sentenceFor(empty),
    /^Here are some books other readers love: The Hobbit by J.R.R. Tolkien, To Kill a Mockingbird by Harper Lee, and The Great Gatsby/,
  );
  const unknown = rank(model, [h(424242, 'finished', 1)], { count: 3 });
  t.equal(unknown.source, 'fallback');
  const skipped = rank(model, [h(10, 'skipped', 1)], { count: 3 });
  t.same(
    skipped.books.map((b) => b.id),
    [8, 9, 12],
    'a skipped fallback book is not offered again',
  );
});

t.test('the reason names the latest positive event; sentences for one and two books', async (t) => {
  const rec = rank(model, [h(8, 'finished', 1), h(9, 'liked', 5), h(10, 'abandoned', 9)], { count: 1 });
  t.equal(rec.reason, 'because you liked The Great Gatsby');
  t.equal(
    sentenceFor(rec),
    'Because you liked The Great Gatsby, you might enjoy The Hunger Games by Suzanne Collins.',
  );
  const two = rank(model, [h(3, 'progress', 1)], { count: 2 });
  t.match(sentenceFor(two), /^Because you are reading Mockingjay, you might enjoy .+ and .+\.$/);
  t.equal(sentenceFor({ ...two, books: [] }), 'I have no new book to suggest right now.');
});

t.test('excluded books are never offered, by the model or by the fallback list', async (t) => {
  const rec = rank(model, [h(1, 'finished', 1)], { count: 3, exclude: [2, 4, 31337] });
  t.same(
    rec.books.map((b) => b.id),
    [3, 5, 6],
  );
  const fallback = rank(model, [], { count: 2, exclude: [10] });
  t.same(
    fallback.books.map((b) => b.id),
    [8, 9],
  );
});

t.test('books without authors are not one group: the list is full', async (t) => {
  const anonymous: OpenModel = {
    ...model,
    catalogue: CATALOGUE.map((b) => ({ ...b, authors: '', title: `isbn ${b.id}` })),
  };
  const rec = rank(anonymous, [h(1, 'finished', 1)], { count: 5 });
  t.same(
    rec.books.map((b) => b.id),
    [2, 3, 4, 5, 6],
  );
});

t.test('rankedIndices: the lazy heap order equals a full sort, past the heap too', async (t) => {
  const scores = Float32Array.from(
    { length: 500 },
    (_, i) => Math.sin(i * 12.9898) * 43758.5453 - Math.floor(Math.sin(i * 12.9898) * 43758.5453),
  );
  scores[7] = scores[8]; // a tie: lower index first
  const exclude = new Set([3, 100, 499]);
  const lazy = [...rankedIndices(scores, exclude, 16)];
  const full = Array.from({ length: 500 }, (_, i) => i)
    .filter((i) => !exclude.has(i))
    .sort((a, b) => scores[b] - scores[a] || a - b);
  t.same(lazy, full);
  // Many ties at the heap's edge (scores of ten values): still the full sort, lower index first.
  const coarse = Float32Array.from(scores, (v) => Math.floor(v * 10) / 10);
  const sorted = Array.from({ length: 500 }, (_, i) => i)
    .filter((i) => !exclude.has(i))
    .sort((a, b) => coarse[b] - coarse[a] || a - b);
  t.same([...rankedIndices(coarse, exclude, 16)], sorted);
});
