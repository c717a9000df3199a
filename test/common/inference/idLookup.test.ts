import t from 'tap';
import { idLookupFor } from '../../../common/inference/idLookup.js';
import type { OpenModel } from '../../../common/inference/openModel.js';
import { catalogueIndex } from '../../../common/model/catalogue.js';

const modelWithIds = (ids: number[]): Pick<OpenModel, 'catalogue' | 'index'> => {
  const catalogue = ids.map((id) => ({ id, title: `Book ${id}`, authors: 'A', year: null, language: '' }));
  return { catalogue, index: catalogueIndex(catalogue) };
};

t.test('id -> index: the model’s own mapping, typed table or Map alike', async (t) => {
  const small = modelWithIds([5, 0, 3, 7]);
  // Ids past 4 slots a book (plus 1,024) keep the Map: a table would cost more than the books.
  const sparse = modelWithIds([10, 2_000_000_000, 42]);
  for (const [what, model] of [
    ['small ids (table)', small],
    ['large ids (Map)', sparse],
  ] as const) {
    const lookup = idLookupFor(model);
    t.equal(idLookupFor(model), lookup, `${what}: built once per model`);
    t.same(
      model.catalogue.map((b) => lookup(b.id)),
      model.catalogue.map((b) => model.index.get(b.id)),
      `${what}: every book where the index puts it`,
    );
    for (const id of [1, 6, 8, -1, 2.5, Number.NaN, 1e12, Number.POSITIVE_INFINITY]) {
      t.equal(lookup(id), -1, `${what}: ${id} is not in the catalogue`);
    }
  }
});
