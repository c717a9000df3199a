import type { CheckedPackage } from './checkedPackage.js';

/**
 * What ranks: the package's model, run by some engine. The JS engine (sparseEngine.ts) runs the sparse
 * student with no ML library at all; models it cannot run (an MLP) are handed to a loader the host
 * provides (tfjs on a server or device: common/model/tfjsEngine.ts), so the core itself never loads one.
 */
export interface ScoringEngine {
  /** Which engine runs the model (logs, /metrics, the memory table). */
  readonly kind: string;
  /** Input and output width: the catalogue length. */
  readonly items: number;
  /** Row b of the result (items wide, at b * items) holds every item's score for inputs[b]. */
  score(inputs: readonly Float32Array[]): Float32Array;
  /**
   * One input's scores written into `out` (items long) instead of a new array: a speaker ranking all day
   * then allocates nothing per answer, which keeps freed buffers from piling up in the C heap. Optional;
   * callers fall back to score().
   */
  scoreInto?(input: Float32Array, out: Float32Array): void;
  /**
   * Scores a sparse input (encodeHistorySparse: ascending indices, non-zero values), touching only the
   * books those inputs feed: work in proportion to the history, not the catalogue. Only engines that can
   * (the JS engine of the sparse student) have it; ranking uses it when present, else the dense path.
   */
  scoreSparse?(indices: Int32Array, values: Float32Array): TouchedScores;
  /** Releases what the engine holds (tensors); the engine is unusable afterwards. */
  dispose(): void;
}

/**
 * The result of scoreSparse, owned by the engine and overwritten by its next call (no allocation per
 * answer): every score is 0 except, possibly, those of the touched books, which are exactly the scores
 * the dense path gives them.
 */
export interface TouchedScores {
  /** Every book's score (catalogue long). */
  readonly scores: Float32Array;
  /** The books the input reached, each once, in the order first reached; the first `count` are valid. */
  readonly touched: Int32Array;
  readonly count: number;
}

/** Builds an engine for a checked package's model, or throws a BookrecError naming the problem. */
export type EngineLoader = (pkg: CheckedPackage) => Promise<ScoringEngine>;
