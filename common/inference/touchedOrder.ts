import type { TouchedScores } from './engine.js';

/** Books chosen per pass over the reached ones: a list of 10 with some diversity skips needs one pass. */
const BATCH = 32;

/**
 * The books of a sparse answer (ScoringEngine.scoreSparse) in exactly the order the dense path ranks the
 * whole catalogue (rankedIndices in ranking.ts: descending score, ties to the lower index), found from the
 * few books the history reaches instead of the catalogue:
 * 1. reached books scoring above 0: a bounded heap keeps the best BATCH of them in one pass, given best
 *    first; should the picker want more (its diversity rule skips books), the next pass keeps the best
 *    BATCH of those ranked after the last one given, and so on;
 * 2. every book scoring exactly 0 in index order: the books no input reaches (the fill-up when the history
 *    reaches fewer books than asked for) and any reached book whose sum is 0, which tie with them;
 * 3. reached books scoring below 0, in passes as in 1.
 * Excluded books are skipped as they come out. A NaN score (a broken model, which the self-test refuses
 * when it meets one) is never offered. One per model, reused by every answer (no allocation per answer):
 * rank() is synchronous, so two rankings never share it at once.
 */
export class TouchedOrder {
  /** A pass's books: while selecting, a min-heap (the worst kept at 0); then best first. */
  private readonly batch = new Int32Array(BATCH);
  private batchLength = 0;
  private batchAt = 0;
  /** The last book the current heap phase gave (-1: none yet); the next pass starts after it. */
  private last = -1;
  /** 1: reached above 0, 2: zero-score scan, 3: reached below 0, 4: done. */
  private phase = 4;
  private scan = 0;
  private scores: Float32Array = new Float32Array(0);
  private result: TouchedScores | undefined;
  private exclude: ReadonlySet<number> = new Set();

  /** Starts over on a new answer, leaving out the `exclude` indices (books read, or excluded). */
  start(result: TouchedScores, exclude: ReadonlySet<number>): void {
    this.result = result;
    this.scores = result.scores;
    this.exclude = exclude;
    this.scan = 0;
    this.last = -1;
    this.batchLength = this.batchAt = 0;
    this.phase = 1;
  }

  /** The next book index, or -1 once every book not excluded has been given. */
  next(): number {
    for (;;) {
      if (this.phase === 2) {
        const s = this.scores;
        while (this.scan < s.length) {
          const i = this.scan++;
          if (s[i] === 0 && !this.exclude.has(i)) return i;
        }
        this.phase = 3;
        this.last = -1;
      }
      if (this.phase === 4) return -1;
      if (this.batchAt === this.batchLength && !this.select(this.phase === 1)) {
        this.phase++;
        continue;
      }
      const i = this.batch[this.batchAt++];
      this.last = i;
      if (!this.exclude.has(i)) return i;
    }
  }

  /**
   * One pass: the best BATCH reached books above 0 (or below 0) that rank after `last`, best first in
   * `batch`. False when there are none left.
   */
  private select(positive: boolean): boolean {
    const { touched, count } = this.result!;
    const s = this.scores;
    const last = this.last;
    const lastScore = last >= 0 ? s[last] : 0;
    const heap = this.batch;
    let size = 0;
    for (let k = 0; k < count; k++) {
      const j = touched[k];
      const v = s[j];
      // Of this phase's sign, and ranked after `last` (the first pass: no bound but the sign).
      if (positive ? !(v > 0) : !(v < 0)) continue;
      if (last >= 0 && !(v < lastScore || (v === lastScore && j > last))) continue;
      if (size < BATCH) {
        heap[size] = j;
        this.up(size++);
      } else if (v > s[heap[0]] || (v === s[heap[0]] && j < heap[0])) {
        heap[0] = j;
        this.down(0, size);
      }
    }
    // Popping the min-heap gives the worst first: fill from the back.
    for (let n = size; n > 1; n--) {
      const worst = heap[0];
      heap[0] = heap[n - 1];
      this.down(0, n - 1);
      heap[n - 1] = worst;
    }
    this.batchLength = size;
    this.batchAt = 0;
    return size > 0;
  }

  /** a ranks before b: higher score, or the same score and a lower index (as the dense path). */
  private better(a: number, b: number): boolean {
    const s = this.scores;
    return s[a] > s[b] || (s[a] === s[b] && a < b);
  }

  /** Min-heap by rank: the book that ranks last sits at 0. */
  private up(k: number): void {
    const heap = this.batch;
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!this.better(heap[p], heap[k])) return;
      const swap = heap[p];
      heap[p] = heap[k];
      heap[k] = swap;
      k = p;
    }
  }

  private down(k: number, size: number): void {
    const heap = this.batch;
    for (;;) {
      const l = 2 * k + 1;
      const r = l + 1;
      let m = k;
      if (l < size && this.better(heap[m], heap[l])) m = l;
      if (r < size && this.better(heap[m], heap[r])) m = r;
      if (m === k) return;
      const swap = heap[m];
      heap[m] = heap[k];
      heap[k] = swap;
      k = m;
    }
  }
}
