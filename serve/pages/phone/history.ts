import type { HistoryItem } from '../../../common/inference/ranking.js';

/**
 * The reader's history, kept in this browser's IndexedDB and nowhere else: the page ranks locally, so
 * nothing about it ever needs to leave the phone.
 */
const DB = 'bookrec';
const STORE = 'history';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { autoIncrement: true });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export class HistoryStore {
  private constructor(private readonly db: IDBDatabase) {}

  static async open(): Promise<HistoryStore> {
    return new HistoryStore(await open());
  }

  async all(): Promise<HistoryItem[]> {
    const tx = this.db.transaction(STORE, 'readonly');
    const req = tx.objectStore(STORE).getAll();
    await done(tx);
    return req.result as HistoryItem[];
  }

  async add(item: HistoryItem): Promise<void> {
    const tx = this.db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).add(item);
    await done(tx);
  }

  async clear(): Promise<void> {
    const tx = this.db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).clear();
    await done(tx);
  }
}
