/**
 * SparseFanIn's source table turned around. The layer stores, per output unit j, the `fanIn` inputs it
 * sums (sources[j * fanIn + r]); scoring a history pushes from its few non-zero inputs instead, so it
 * needs, per input i, the weight slots and output units i feeds. Shared by the tfjs layer and the JS
 * scoring engine, so both sum in the same order.
 */
/** For input i: edges start[i]..start[i + 1] - 1, each a flat weight slot j * fanIn + r and its unit j. */
export interface EdgeIndex {
  start: Int32Array; // length inputs + 1
  slot: Int32Array; // flat weight index
  target: Int32Array; // output unit j of that slot
}

/** Builds the EdgeIndex; throws on a source that is not an input index (a corrupt table). */
export function invertSources(
  sources: ArrayLike<number>,
  units: number,
  fanIn: number,
  inputs: number,
): EdgeIndex {
  const start = new Int32Array(inputs + 1);
  for (let s = 0; s < units * fanIn; s++) {
    const i = sources[s];
    if (!Number.isInteger(i) || i < 0 || i >= inputs) {
      throw new Error(`SparseFanIn: source ${i} at slot ${s} is not an input index below ${inputs}`);
    }
    start[i + 1]++;
  }
  for (let i = 0; i < inputs; i++) start[i + 1] += start[i];
  const fill = start.slice(0, inputs);
  const slot = new Int32Array(units * fanIn);
  const target = new Int32Array(units * fanIn);
  for (let s = 0; s < units * fanIn; s++) {
    const at = fill[sources[s]]++;
    slot[at] = s;
    target[at] = Math.floor(s / fanIn);
  }
  return { start, slot, target };
}
