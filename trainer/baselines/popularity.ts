import { type Interactions, itemCount, itemPopularity } from '../data/interactions.js';
import type { Scorer } from '../eval/scorer.js';

/** Recommends the books most read by training users, the same for everybody. */
export function popularityScorer(train: Interactions, trainUsers: Int32Array): Scorer {
  const pop = Float32Array.from(itemPopularity(train, trainUsers));
  return {
    name: 'pop',
    params: itemCount(train),
    bytes: null,
    score(histories, out) {
      for (let b = 0; b < histories.length; b++) out.set(pop, b * pop.length);
    },
  };
}
