import { join } from 'node:path';
import t from 'tap';
import { nodePackageSource } from '../../../common/inference/nodePackageSource.js';
import { openModel } from '../../../common/inference/openModel.js';
import { useBackend } from '../../../common/model/backend.js';
import { encodeHistory, encodeHistorySparse } from '../../../common/model/encoding.js';
import { writePackage } from '../../../common/model/modelPackage.js';
import { fixtureEncoding, randomHistories } from '../../helpers/modelFixture.js';
import { N, NOW, parts } from '../../helpers/packageFixture.js';

/** The JS engine's sparse path (scoreSparse) against its dense one, score for score. */
t.before(() => useBackend('cpu'));

async function fixture(dir: string) {
  const p = parts('m', 7, 0);
  await writePackage(dir, p);
  p.model.dispose();
  return openModel(nodePackageSource(dir));
}

t.test('scoreSparse gives the dense scores, bit for bit, and reaches only the books fed', async (t) => {
  const model = await fixture(join(t.testdir(), 'pkg'));
  const engine = model.engine;
  const histories = randomHistories(100, N, 5);
  const dense = new Float32Array(N);
  let differing = 0;
  let untouchedNonZero = 0;
  let reached = 0;
  let listedTwice = 0;
  // One engine for all: each answer must start clean of the one before.
  for (const h of histories) {
    const { indices, values } = encodeHistorySparse(model.manifest.encoding, h, NOW);
    engine.scoreInto!(encodeHistory(model.manifest.encoding, h, NOW), dense);
    const got = engine.scoreSparse!(indices, values);
    const touched = new Set(got.touched.subarray(0, got.count));
    if (touched.size !== got.count) listedTwice++;
    for (let i = 0; i < N; i++) {
      if (!Object.is(got.scores[i], dense[i])) differing++;
      if (!touched.has(i) && got.scores[i] !== 0) untouchedNonZero++;
    }
    reached += got.count;
  }
  t.equal(differing, 0, 'every score of every history the same float32 value');
  t.equal(listedTwice, 0, 'each reached book listed once');
  t.equal(untouchedNonZero, 0, 'no score outside the touched list');
  t.ok(
    reached > 0 && reached < histories.length * N,
    `${reached} books reached, not the catalogue each time`,
  );
});

t.test('an input out of order or out of range is refused and leaves the next answer right', async (t) => {
  const model = await fixture(join(t.testdir(), 'pkg'));
  const engine = model.engine;
  const ok = engine.scoreSparse!(Int32Array.of(2, 9), Float32Array.of(1, 0.5));
  const want = Float32Array.from(ok.scores);
  for (const [indices, values, message] of [
    [Int32Array.of(9, 2), Float32Array.of(1, 1), /input index 2 at 1 is not ascending/],
    [Int32Array.of(3, 3), Float32Array.of(1, 1), /input index 3 at 1 is not ascending/],
    [Int32Array.of(1, N), Float32Array.of(1, 1), new RegExp(`input index ${N} at 1 .* not below ${N}`)],
    [Int32Array.of(-1), Float32Array.of(1), /input index -1 at 0/],
    [Int32Array.of(1, 2), Float32Array.of(1), /2 input indices but 1 values/],
  ] as const) {
    t.throws(() => engine.scoreSparse!(indices, values), { code: 'MODEL_INPUT', message });
  }
  const again = engine.scoreSparse!(Int32Array.of(2, 9), Float32Array.of(1, 0.5));
  t.same(Array.from(again.scores), Array.from(want), 'the same scores as before the refusals');
  const empty = engine.scoreSparse!(new Int32Array(0), new Float32Array(0));
  t.equal(empty.count, 0);
  t.ok(
    empty.scores.every((v) => v === 0),
    'an empty input scores nothing, the last answer cleared',
  );
});

t.test('encodeHistorySparse lists the dense encoding’s non-zero values by index', async (t) => {
  const encodings = [
    fixtureEncoding(N),
    { ...fixtureEncoding(N), recencyHalfLifeDays: 20, maxHistory: 6 },
    // Decay so strong that old books fall to float32 zero: dropped from the list as the engine skips them.
    { ...fixtureEncoding(N), recencyHalfLifeDays: 0.05 },
  ];
  let underflowed = 0;
  for (const [e, encoding] of encodings.entries()) {
    const got: number[][] = [];
    const want: number[][] = [];
    for (const h of randomHistories(60, N, 3 + e)) {
      const dense = encodeHistory(encoding, h, NOW);
      const { indices, values } = encodeHistorySparse(encoding, h, NOW);
      const nonZero = [...dense.keys()].filter((i) => dense[i] !== 0);
      got.push([...indices], [...values]);
      want.push(
        nonZero,
        nonZero.map((i) => dense[i]),
      );
      if (e === 2) underflowed += encodeHistorySparse(encodings[0], h, NOW).indices.length - indices.length;
    }
    t.same(got, want, `encoding ${e}: the non-zero books ascending, their float32 values`);
  }
  t.ok(underflowed > 0, `books decayed to zero left out (${underflowed})`);
});
