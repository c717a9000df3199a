/**
 * Partial top-K selection with a bounded min-heap: O(n log K) per user instead of a full sort.
 * Ties are broken towards the lower item index, so rankings are deterministic.
 */
export function topK(
  scores: Float32Array | Float64Array,
  k: number,
  exclude?: ArrayLike<number>,
): Int32Array {
  const excluded = exclude && exclude.length > 0 ? new Set<number>(Array.from(exclude)) : undefined;
  const size = Math.min(k, scores.length - (excluded?.size ?? 0));
  if (size <= 0) return new Int32Array(0);
  const heap = new Int32Array(size);
  let filled = 0;
  // "a ranks below b": lower score, or equal score and higher index.
  const below = (a: number, b: number) => scores[a] < scores[b] || (scores[a] === scores[b] && a > b);
  const siftDown = (start: number) => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < filled && below(heap[l], heap[m])) m = l;
      if (r < filled && below(heap[r], heap[m])) m = r;
      if (m === i) return;
      const t = heap[i];
      heap[i] = heap[m];
      heap[m] = t;
      i = m;
    }
  };
  for (let item = 0; item < scores.length; item++) {
    if (excluded?.has(item) || Number.isNaN(scores[item])) continue;
    if (filled < size) {
      let i = filled++;
      heap[i] = item;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!below(heap[i], heap[p])) break;
        const t = heap[i];
        heap[i] = heap[p];
        heap[p] = t;
        i = p;
      }
    } else if (below(heap[0], item)) {
      heap[0] = item;
      siftDown(0);
    }
  }
  const out = heap.slice(0, filled);
  // Best first.
  return out.sort((a, b) => (below(a, b) ? 1 : below(b, a) ? -1 : 0));
}
