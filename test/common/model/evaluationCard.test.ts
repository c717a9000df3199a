import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { checkPackage, packageCard } from '../../../common/inference/checkedPackage.js';
import { nodePackageSource } from '../../../common/inference/nodePackageSource.js';
import { useBackend } from '../../../common/model/backend.js';
import { writeCard } from '../../../common/model/cardFile.js';
import {
  CARD_FILE,
  cardFromMetrics,
  cardMetrics,
  cardSummary,
  type EvaluationCard,
  validateCard,
} from '../../../common/model/evaluationCard.js';
import { readPackage, writePackage } from '../../../common/model/modelPackage.js';
import { DEFAULT_LIMITS } from '../../../common/protocol/manifest.js';
import { packageInfo, readPackage as readPackageFiles } from '../../../deploy/packageFiles.js';
import { parts, readManifest } from '../../helpers/packageFixture.js';

/**
 * Issue 21 item 15f: the evaluation card a package carries (card.json): listed in bookrec-package.json,
 * so checked like every file and signed with the release; optional to read; its figures reach the
 * release manifest's metrics at publish.
 */
const card: EvaluationCard = {
  format: 1,
  trainedAt: '2026-01-02T03:04:05.000Z',
  dataset: 'goodbooks-10k',
  ndcg10: 0.2512,
  slices: { '1-4': 0.18, '5-19': 0.25, '20+': 0.31 },
  teacherNdcg10: 0.262,
  modelBytes: 812_345,
};

t.before(() => useBackend('cpu'));

t.test('a package with a card: listed, verified, read; without one: none', async (t) => {
  const dir = join(t.testdir(), 'package');
  await writePackage(dir, parts('student-1'));
  t.equal(packageCard(await checkPackage(nodePackageSource(dir))), undefined, 'no card: none');
  // A card.json the manifest does not list is not part of the package.
  await writeFile(join(dir, CARD_FILE), '{"junk": true}');
  t.equal(packageCard(await checkPackage(nodePackageSource(dir))), undefined, 'unlisted: ignored');

  const manifest = await writeCard(dir, card);
  t.same(
    manifest.files.map((f) => f.name),
    ['model.json', 'weights.bin', 'catalogue.json', CARD_FILE],
  );
  t.same(await readManifest(dir), JSON.parse(JSON.stringify(manifest)), 'the manifest on disk lists it');
  t.same(packageCard(await checkPackage(nodePackageSource(dir))), card, 'read back');
  const loaded = await readPackage(dir);
  loaded.model.dispose();
  t.pass('the package still loads');

  // Changed after export: refused like any file.
  const bytes = await readFile(join(dir, CARD_FILE), 'utf8');
  await writeFile(join(dir, CARD_FILE), bytes.replace('0.2512', '0.9512'));
  await t.rejects(checkPackage(nodePackageSource(dir)), { code: 'PACKAGE_CHECKSUM' });
  // Written again: replaced, listed once.
  const again = await writeCard(dir, { ...card, ndcg10: 0.3 });
  t.equal(again.files.filter((f) => f.name === CARD_FILE).length, 1);
  t.equal(packageCard(await checkPackage(nodePackageSource(dir)))?.ndcg10, 0.3);

  // publish: the card's figures join the package metrics, for the signed release manifest.
  const files = await readPackageFiles(dir, 64 * 1024, DEFAULT_LIMITS);
  const info = packageInfo(files);
  t.match(info.metrics, { ndcg10: 0.251, 'card.ndcg10': 0.3, 'card.slice.20+': 0.31 });
});

t.test('a bad card names the field', async (t) => {
  t.throws(
    () => validateCard({ ...card, ndcg10: 2 }, 'card.json'),
    /card.json: ndcg10 must be a number from 0 to 1/,
  );
  t.throws(() => validateCard({ ...card, extra: 1 }, 'card.json'), /unknown field extra/);
  t.throws(
    () => validateCard({ ...card, slices: { 'a b': 0.1 } }, 'card.json'),
    /"a b" is not a slice label/,
  );
  t.throws(() => validateCard({ ...card, trainedAt: 'yesterday' }, 'card.json'), /trainedAt/);
  t.throws(() => validateCard([], 'card.json'), { code: 'PACKAGE_INVALID' });
});

t.test('release metrics round trip, and the line people read', async (t) => {
  const metrics = cardMetrics(card);
  t.ok(Object.keys(metrics).length <= 12, 'well inside the manifest’s 32 metrics');
  const { format: _f, dataset: _d, ...figures } = card;
  t.same(cardFromMetrics({ ndcg10: 0.1, ...metrics }), { ...figures, trainedAt: '2026-01-02T03:04:05.000Z' });
  t.equal(cardFromMetrics({ ndcg10: 0.1 }), undefined, 'a release without a card');
  t.equal(
    cardSummary(card),
    'NDCG@10 0.251 (teacher 0.262; 1-4: 0.180; 5-19: 0.250; 20+: 0.310), 812 kB, trained 2026-01-02',
  );
});
