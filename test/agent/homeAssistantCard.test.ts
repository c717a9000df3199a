import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { installedCardSummary } from '../../agent/homeAssistant.js';
import { CARD_FORMAT } from '../../common/model/evaluationCard.js';

/** The installed release's card as the Home Assistant update entity's summary (issue 21 item 15e). */
t.test('the summary comes from the installed card; no card or a bad one gives none', async (t) => {
  const dir = t.testdir();
  t.equal(await installedCardSummary(dir, 3), undefined, 'a release without a card');
  await writeFile(
    join(dir, 'card.json'),
    JSON.stringify({
      format: CARD_FORMAT,
      trainedAt: '2026-01-02T00:00:00.000Z',
      dataset: 'goodbooks-10k',
      ndcg10: 0.2512,
      teacherNdcg10: 0.2623,
      slices: { '1-4': 0.18 },
      modelBytes: 812_345,
    }),
  );
  t.equal(
    await installedCardSummary(dir, 3),
    'v3: NDCG@10 0.251 (teacher 0.262; 1-4: 0.180), 812 kB, trained 2026-01-02',
  );
  await writeFile(join(dir, 'card.json'), '{"format": 1, "ndcg10": "high"}');
  t.equal(await installedCardSummary(dir, 3), undefined, 'a card that does not validate: none (optional)');
});
