import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import t from 'tap';
import { useBackend } from '../../../common/model/backend.js';
import { catalogueIndex, validateCatalogue } from '../../../common/model/catalogue.js';
import { scoreWithModel } from '../../../common/model/score.js';
import { fixtureCatalogue, fixtureModel } from '../../helpers/modelFixture.js';

t.test('scoreWithModel: a batch scores like its rows one by one, and leaves no tensors', async (t) => {
  await useBackend('cpu');
  const model = fixtureModel(30, 3, 4, 8);
  const rows = [0, 1, 2].map((r) => Float32Array.from({ length: 30 }, (_, i) => ((i + r) % 4 === 0 ? 1 : 0)));
  const before = tf.memory().numTensors;
  const batch = scoreWithModel(model, rows, 30);
  t.equal(batch.length, 90);
  for (const [r, row] of rows.entries()) {
    const one = scoreWithModel(model, [row], 30);
    t.ok(
      one.every((v, j) => Math.abs(v - batch[r * 30 + j]) < 1e-5),
      `row ${r}`,
    );
  }
  t.same(scoreWithModel(model, [], 30), new Float32Array(0), 'an empty batch');
  t.throws(() => scoreWithModel(model, [new Float32Array(29)], 30), {
    code: 'MODEL_INPUT',
    message: /29 values/,
  });
  const input = tfl.input({ shape: [4] });
  const narrow = tfl.model({
    inputs: input,
    outputs: tfl.layers.dense({ units: 3 }).apply(input) as tfl.SymbolicTensor,
  });
  const two = tfl.model({
    inputs: input,
    outputs: [
      tfl.layers.dense({ units: 4 }).apply(input),
      tfl.layers.dense({ units: 4 }).apply(input),
    ] as tfl.SymbolicTensor[],
  });
  const narrowTensors = tf.memory().numTensors;
  t.throws(() => scoreWithModel(narrow, [new Float32Array(4)], 4), {
    message: /shape \[1,3\], expected \[\*, 4\]/,
  });
  t.throws(() => scoreWithModel(two, [new Float32Array(4)], 4), { message: /more than one output/ });
  t.equal(tf.memory().numTensors, narrowTensors, 'failed calls leave no tensors');
  tf.dispose([narrow, two, model].flatMap((m) => m.weights.map((w) => w.read())));
  t.equal(tf.memory().numTensors, before - model.weights.length);
});

t.test('catalogue: checked entries, unique ids, id -> index', async (t) => {
  const books = fixtureCatalogue(3);
  t.same(validateCatalogue(JSON.parse(JSON.stringify(books)), 'c.json'), books);
  t.same(
    [...catalogueIndex(books)],
    [
      [1000, 0],
      [1001, 1],
      [1002, 2],
    ],
  );
  t.throws(() => validateCatalogue({}, 'c.json'), {
    code: 'PACKAGE_INVALID',
    message: /c.json: must be a JSON array/,
  });
  t.throws(() => validateCatalogue([{ ...books[0], id: 0 }], 'c.json'), {
    message: /\[0\].id must be an integer >= 1/,
  });
  t.throws(() => validateCatalogue([{ ...books[0], isbn: 'x' }], 'c.json'), {
    message: /\[0\].isbn is not a known field/,
  });
  t.throws(() => validateCatalogue([{ ...books[0], title: null }], 'c.json'), {
    message: /\[0\].title must be a string, not null/,
  });
  t.throws(() => validateCatalogue([null], 'c.json'), { message: /\[0\] must be a JSON object/ });
  t.same(
    validateCatalogue([{ ...books[0], year: -720 }], 'c.json')[0].year,
    -720,
    'works before the common era',
  );
});
