import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { main } from '../../../cli/bookrec.js';
import { checkPackage, packageCard } from '../../../common/inference/checkedPackage.js';
import { nodePackageSource } from '../../../common/inference/nodePackageSource.js';
import { readPackage } from '../../../common/model/modelPackage.js';
import { testContext } from '../../helpers/cliContext.js';
import { realDataDir } from '../../helpers/realData.js';
import { svgElements } from '../../helpers/svgXml.js';
import { scaled } from '../../helpers/time.js';

interface Model {
  name: string;
  params: number;
  bytes: number | null;
  metrics: Record<string, number>;
}

// A quick training on the real data: ~2 min on a quiet machine, more than tap's 300 s per file on a
// busy one (seen: 318 s beside two CPU burners). A hang still ends here.
t.setTimeout(scaled(900_000));
t.test(
  'bookrec train --quick on the real data: every model evaluated, a valid package, a report',
  async (t) => {
    const data = realDataDir(t);
    if (!data) return;
    const dir = t.testdir();
    const out = join(dir, 'train');
    const cache = join(dir, 'cache');
    const run = testContext();
    const code = await main(
      ['train', '--data', data, '--out', out, '--cache', cache, '--quick', '--backend', 'wasm'],
      run.ctx,
    );
    t.equal(code, 0, run.err.join('\n'));

    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const models = new Map<string, Model>(report.models.map((m: Model) => [m.name, m]));
    for (const name of [
      'pop',
      'itemknn',
      'ease',
      'teacher',
      'student',
      'student-start',
      'student-nokd',
      'student-kd',
      'student-knn',
      'mlp-kd',
      'mlp-nokd',
    ]) {
      t.ok(models.has(name), `${name} is in the report`);
    }
    const ndcg = (name: string) => models.get(name)!.metrics['ndcg@10'];
    t.ok(ndcg('student') > 5 * ndcg('pop'), `student ${ndcg('student')} beats popularity ${ndcg('pop')}`);
    t.ok(ndcg('teacher') > 5 * ndcg('pop'), 'the teacher beats popularity');
    t.ok(
      models.get('student')!.params <= models.get('teacher')!.params / 10,
      'student <= 1/10 of the teacher',
    );
    t.ok(
      report.shipped.modelBytes <= 1024 * 1024,
      `exported model ${report.shipped.modelBytes} bytes <= 1 MB`,
    );
    t.ok(
      report.shipped.top10Agreement >= 0.95,
      `reloaded top-10 agrees for ${report.shipped.top10Agreement}`,
    );
    t.match(report.split, { trainUsers: Number, validationUsers: Number, testUsers: Number });
    t.equal(report.dataset, 'goodbooks-10k', 'named after the data folder');
    t.equal(report.data.labels, 'books.csv');
    t.match(report.kdComparison, {
      metric: 'ndcg@10',
      student: 'student-kd',
      twin: 'student-nokd',
      users: report.split.testUsers,
    });
    const { diff, ci95 } = report.kdComparison;
    t.ok(ci95[0] <= diff && diff <= ci95[1], `the interval [${ci95}] holds the difference ${diff}`);
    t.ok(
      Math.abs(diff - (ndcg('student-kd') - ndcg('student-nokd'))) < 1e-9,
      'the paired difference is the difference of the means',
    );
    // The student moves: its refit validates better than its start (the teacher's pruned weights).
    t.ok(
      report.studentStartEnd.validation.end > report.studentStartEnd.validation.start,
      `validation ${report.studentStartEnd.validation.start} -> ${report.studentStartEnd.validation.end}`,
    );
    t.ok(report.shipped.accepted, 'every check passed');
    t.same(
      report.shipped.checks.map((c: { name: string }) => c.name),
      ['reload-agreement', 'size-budget', 'teacher-share'],
    );

    // The package loads as the speaker will load it.
    const pkg = await readPackage(join(out, 'package'));
    t.equal(pkg.catalogue.length, pkg.model.inputs[0].shape[1]);
    t.ok(
      pkg.catalogue.some((b) => /Harry Potter/.test(b.title)),
      'real titles in the catalogue',
    );
    pkg.model.dispose();
    // Issue 21 item 15f: the package carries its own figures, listed (so checked and signed with it).
    const card = packageCard(await checkPackage(nodePackageSource(join(out, 'package'))));
    t.ok(card && Math.abs(card.ndcg10 - ndcg('student')) < 1e-4, `card NDCG@10 ${card?.ndcg10}`);
    t.equal(card?.modelBytes, report.shipped.modelBytes);
    t.ok(Object.keys(card?.slices ?? {}).length > 0, `per history slice: ${JSON.stringify(card?.slices)}`);

    const md = readFileSync(join(out, 'report.md'), 'utf8');
    t.match(md, /\| student \|/);
    for (const svg of ['quality-vs-size.svg', 'learning-curves.svg']) {
      t.match(readFileSync(join(out, svg), 'utf8'), /^<svg[\s\S]*<\/svg>$/, `${svg} is an SVG`);
    }

    // A second run reuses the cached EASE weights and teacher.
    const again = testContext();
    t.equal(
      await main(
        ['train', '--data', data, '--out', out, '--cache', cache, '--quick', '--backend', 'wasm'],
        again.ctx,
      ),
      0,
    );
    const messages = again.log.lines.map((l) => l.msg);
    t.ok(messages.includes('teacher read from cache'), 'teacher from cache');
    t.ok(messages.includes('EASE weights read from cache'), 'EASE from cache');
  },
);

t.test('bookrec grid --quick writes the grid with a = 1 as the reference', async (t) => {
  const data = realDataDir(t);
  if (!data) return;
  const dir = t.testdir();
  const run = testContext();
  const args = [
    'grid',
    '--data',
    data,
    '--out',
    dir,
    '--cache',
    join(dir, 'cache'),
    '--quick',
    '--student',
    'mlp',
  ];
  const code = await main([...args, '--alphas', '0.5', '--temperatures', '2', '--seeds', '1'], run.ctx);
  t.equal(code, 0, run.err.join('\n'));
  const grid = JSON.parse(readFileSync(join(dir, 'grid-mlp.json'), 'utf8'));
  t.same(
    grid.points.map((p: { alpha: number; temperature: number }) => [p.alpha, p.temperature]),
    [
      [1, 1],
      [0.5, 2],
    ],
  );
  t.same(grid.chosen, { alpha: 0.5, temperature: 2 });
  t.ok(grid.points.every((p: { validationNdcg10: { mean: number } }) => p.validationNdcg10.mean > 0));
  const heatmap = svgElements(readFileSync(join(dir, 'grid-mlp.svg'), 'utf8'));
  t.equal(heatmap.filter((e) => e.attrs.class === 'cell').length, 2, 'a heatmap cell per grid point');
  t.same(
    heatmap.filter((e) => e.attrs.class === 'chosen').map((e) => e.attrs['data-alpha']),
    ['0.5'],
    'the chosen cell outlined',
  );
  t.match(
    readFileSync(join(dir, 'grid-mlp.md'), 'utf8'),
    /!\[[^\]]+\]\(grid-mlp\.svg\)/,
    'the table links it',
  );
});

t.test('bad distillation settings are rejected naming the key', async (t) => {
  const run = testContext();
  t.equal(await main(['train', '--alpha', '1.5'], run.ctx), 2, 'a bad flag value is a usage error');
  t.match(run.err.join('\n'), /alpha.*1\.5|1\.5.*alpha/);
  const bad = testContext();
  t.equal(await main(['grid', '--alphas', '0.5,x'], bad.ctx), 1);
  t.match(bad.err.join('\n'), /grid\.alphas/);
});
