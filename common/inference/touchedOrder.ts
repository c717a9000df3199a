import type { TouchedScores } from './engine.js';

/**
 * The books of a sparse answer (ScoringEngine.scoreSparse) in exactly the order the dense path ranks the
 * whole catalogue (rankedIndices in ranking.ts: descending score, ties to the lower index), found from the
 * few books the history reaches instead of the catalogue:
 * 1. reached books scoring above 0, from a heap over them, popped one by one as the picker asks (how deep
 *    it goes depends on the diversity rule, so the heap is not cut at a fixed k);
 * 2. every book scoring exactly 0 in index order: the books no input reaches (the fill-up when the history
 *    reaches fewer books than asked for) and any reached book whose sum is 0, which tie with them;
 * 3. reached books scoring below 0, from a heap again.
 * A NaN score (a broken model, which the self-test refuses when it meets one) is never offered.
 * One per model, reused by every answer: rank() is synchronous, so two rankings never share it at once.
 */
export class TouchedOrder {
  private readonly heap: Int32Array;
  private size = 0;
  /** 1: positive heap, 2: zero-score scan, 3: negative heap (empty: done). */
  private phase = 3;
  private scan = 0;
  private scores: Float32Array = new Float32Array(0);
  private result: TouchedScores | undefined;
  private exclude: ReadonlySet<number> = new Set();

  constructor(items: number) {
    this.heap = new Int32Array(items);
  }

  /** Starts over on a new answer, leaving out the `exclude` indices (books read, or excluded). */
  start(result: TouchedScores, exclude: ReadonlySet<number>): void {
    this.result = result;
    this.scores = result.scores;
    this.exclude = exclude;
    this.scan = 0;
    this.fill(true);
    this.phase = 1;
  }

  /** The next book index, or -1 once every book not excluded has been given. */
  next(): number {
    if (this.phase === 1) {
      if (this.size > 0) return this.pop();
      this.phase = 2;
    }
    if (this.phase === 2) {
      const s = this.scores;
      while (this.scan < s.length) {
        const i = this.scan++;
        if (s[i] === 0 && !this.exclude.has(i)) return i;
      }
      this.fill(false);
      this.phase = 3;
    }
    return this.size > 0 ? this.pop() : -1;
  }

  /** Heaps the reached books above 0 (or below 0), not excluded. */
  private fill(positive: boolean): void {
    const { touched, count } = this.result!;
    const s = this.scores;
    this.size = 0;
    for (let k = 0; k < count; k++) {
      const j = touched[k];
      if ((positive ? s[j] > 0 : s[j] < 0) && !this.exclude.has(j)) this.heap[this.size++] = j;
    }
    for (let k = (this.size >> 1) - 1; k >= 0; k--) this.down(k);
  }

  private pop(): number {
    const top = this.heap[0];
    this.size--;
    if (this.size > 0) {
      this.heap[0] = this.heap[this.size];
      this.down(0);
    }
    return top;
  }

  /** a ranks before b: higher score, or the same score and a lower index (as the dense path). */
  private better(a: number, b: number): boolean {
    const s = this.scores;
    return s[a] > s[b] || (s[a] === s[b] && a < b);
  }

  private down(k: number): void {
    const heap = this.heap;
    for (;;) {
      const l = 2 * k + 1;
      const r = l + 1;
      let m = k;
      if (l < this.size && this.better(heap[l], heap[m])) m = l;
      if (r < this.size && this.better(heap[r], heap[m])) m = r;
      if (m === k) return;
      const swap = heap[m];
      heap[m] = heap[k];
      heap[k] = swap;
      k = m;
    }
  }
}
