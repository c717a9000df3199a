/**
 * What the evaluation needs of a model: scores for every catalogue item given users' histories.
 * Baselines, the teacher and the student all implement it, so one harness measures them all.
 */
export interface Scorer {
  readonly name: string;
  /** Learned (or stored) numbers the model needs at inference. */
  readonly params: number;
  /** Size of the model as shipped, or null when it is not exported. */
  readonly bytes: number | null;
  /**
   * Writes scores for each history (dense item indices) into `out`, row-major
   * (histories.length x nItems). Higher is better; fold-in items are masked by the caller.
   */
  score(histories: Int32Array[], out: Float32Array): void | Promise<void>;
}
