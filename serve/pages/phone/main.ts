import { errorMessage } from '../../../common/errors.js';
import type { OpenModel } from '../../../common/inference/openModel.js';
import { type HistoryItem, plainTitle, rank } from '../../../common/inference/ranking.js';
import type { BookEntry } from '../../../common/model/catalogue.js';
import { HistoryStore } from './history.js';
import { loadTrustedRelease, type PhoneSettings } from './release.js';

/** The reader's phone: search the catalogue, mark books read, see what the model recommends. */
const RESULTS = 20;
const RECOMMENDATIONS = 5;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function bookItem(book: Pick<BookEntry, 'id' | 'title' | 'authors'>, extra?: HTMLElement): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.bookId = String(book.id);
  const text = document.createElement('span');
  text.className = 'text';
  const title = document.createElement('span');
  title.className = 'title';
  title.textContent = plainTitle(book.title);
  const authors = document.createElement('span');
  authors.className = 'authors';
  authors.textContent = book.authors;
  text.append(title, authors);
  li.append(text);
  if (extra) li.append(extra);
  return li;
}

function fail(err: unknown): void {
  const box = $<HTMLParagraphElement>('error');
  const code = (err as { code?: string }).code;
  box.textContent = `Refused: ${errorMessage(err)}${code ? ` [${code}]` : ''}`;
  box.hidden = false;
  $('status').textContent = 'No recommendations: the book list could not be trusted.';
  document.body.dataset.state = 'refused';
}

async function main(): Promise<void> {
  const settingsRes = await fetch('config.json', { cache: 'no-cache', credentials: 'omit' });
  const settings = (await settingsRes.json()) as PhoneSettings;
  const release = await loadTrustedRelease(settings);
  const { model, manifest } = release;
  const store = await HistoryStore.open();
  let history = await store.all();
  $('release').textContent =
    `Release ${manifest.version} of ${manifest.channel}, signed by key ${manifest.keyId}; ${model.catalogue.length} books.`;
  $('status').textContent = `Ready: ${model.catalogue.length} books, verified.`;
  const search = $<HTMLInputElement>('search');
  search.disabled = false;

  const render = () => {
    const read = new Set(history.map((h) => h.bookId));
    const list = $('history');
    list.replaceChildren(
      ...history.map((h) => {
        const i = model.index.get(h.bookId);
        return bookItem(
          i === undefined ? { id: h.bookId, title: `book ${h.bookId}`, authors: '' } : model.catalogue[i],
        );
      }),
    );
    $('clear').hidden = history.length === 0;
    renderResults(model, search.value, read);
    const now = new Date();
    const ranking = rank(model, history, { count: RECOMMENDATIONS, now });
    $('reason').textContent =
      ranking.source === 'fallback'
        ? 'Popular with other readers:'
        : `${ranking.reason[0].toUpperCase()}${ranking.reason.slice(1)}:`;
    const recs = $('recs');
    recs.dataset.now = String(now.getTime());
    recs.dataset.source = ranking.source;
    recs.replaceChildren(
      ...ranking.books.map((b) => {
        const score = document.createElement('span');
        score.className = 'score';
        score.textContent = b.score === null ? '' : b.score.toFixed(2);
        return bookItem(b, score);
      }),
    );
    document.body.dataset.state = 'ready';
    document.body.dataset.historyLength = String(history.length);
  };

  const renderResults = (m: OpenModel, query: string, read: Set<number>) => {
    const q = query.trim().toLowerCase();
    const found =
      q.length < 2
        ? []
        : m.catalogue.filter((b) => !read.has(b.id) && b.title.toLowerCase().includes(q)).slice(0, RESULTS);
    $('results').replaceChildren(
      ...found.map((b) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = 'I read it';
        button.addEventListener('click', () => {
          const item: HistoryItem = { bookId: b.id, kind: 'finished', at: Date.now() };
          void store.add(item).then(async () => {
            history = await store.all();
            render();
          });
        });
        return bookItem(b, button);
      }),
    );
  };

  search.addEventListener('input', () =>
    renderResults(model, search.value, new Set(history.map((h) => h.bookId))),
  );
  $('clear').addEventListener('click', () => {
    void store.clear().then(() => {
      history = [];
      render();
    });
  });
  render();
}

main().catch(fail);
