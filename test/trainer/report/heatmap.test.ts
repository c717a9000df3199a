import t from 'tap';
import { gridHeatmap, type HeatCell } from '../../../trainer/report/heatmap.js';
import { svgElements } from '../../helpers/svgXml.js';

function grid(alphas: number[], temps: number[], seeds: number): HeatCell[] {
  const cells: HeatCell[] = [{ alpha: 1, temperature: 1, value: 0.279, min: 0.278, max: 0.2801, seeds }];
  let k = 0;
  for (const alpha of alphas) {
    for (const temperature of temps) {
      const value = 0.27 + 0.001 * k++;
      cells.push({ alpha, temperature, value, min: value - 0.0005, max: value + 0.0007, seeds });
    }
  }
  return cells;
}

const cellsOf = (svg: string) => {
  const els = svgElements(svg);
  const out: { alpha: string; temperature: string; texts: Record<string, string>; fill: string }[] = [];
  els.forEach((e, i) => {
    if (e.attrs.class !== 'cell') return;
    const texts: Record<string, string> = {};
    let fill = '';
    // The group's children follow it until the next group or the outline.
    for (const c of els.slice(i + 1, i + 4)) {
      if (c.tag === 'rect' && !fill) fill = c.attrs.fill;
      if (c.tag === 'text') texts[c.attrs.class] = c.text;
    }
    out.push({ alpha: e.attrs['data-alpha'], temperature: e.attrs['data-temperature'], texts, fill });
  });
  return { els, cells: out };
};

t.test(
  '3 x 3 grid with seeds: one cell per pair with its value and spread, the chosen one outlined',
  async (t) => {
    const cells = grid([0.25, 0.5, 0.75], [1, 2, 4], 3);
    const svg = gridHeatmap('g', cells, { alpha: 0.5, temperature: 2 });
    const { els, cells: drawn } = cellsOf(svg);
    t.equal(drawn.length, 10, 'nine (a, T) cells and the a = 1 reference');
    for (const c of cells) {
      const d = drawn.find(
        (x) =>
          Number(x.alpha) === c.alpha &&
          (c.alpha === 1 ? x.temperature === '' : Number(x.temperature) === c.temperature),
      );
      t.ok(d, `cell a=${c.alpha} T=${c.temperature} drawn`);
      t.equal(d?.texts.value, c.value.toFixed(4), 'value printed');
      t.equal(d?.texts.spread, `${c.min.toFixed(4)}–${c.max.toFixed(4)}`, 'seed spread printed');
    }
    t.equal(new Set(drawn.map((d) => d.fill)).size, 10, 'different values, different colours');
    const chosen = els.filter((e) => e.attrs.class === 'chosen');
    t.equal(chosen.length, 1);
    t.same([chosen[0].attrs['data-alpha'], chosen[0].attrs['data-temperature']], ['0.5', '2']);
    t.ok(
      els.some((e) => e.attrs.class === 'legend' && e.attrs.fill === 'url(#viridis)'),
      'colour legend',
    );
    t.ok(
      els.some((e) => e.tag === 'linearGradient' && e.attrs.id === 'viridis'),
      'gradient defined inline',
    );
  },
);

t.test('one seed: no spread line; the reference can be the chosen cell', async (t) => {
  const svg = gridHeatmap('g', grid([0.5], [2], 1), { alpha: 1, temperature: 1 });
  const { els, cells } = cellsOf(svg);
  t.equal(cells.length, 2);
  t.notOk(cells.some((c) => 'spread' in c.texts));
  t.equal(els.filter((e) => e.attrs.class === 'chosen')[0]?.attrs['data-alpha'], '1');
});

t.test('an empty grid and a single cell render valid SVG without NaN', async (t) => {
  const empty = gridHeatmap('g', [], { alpha: 0.5, temperature: 1 });
  t.ok(svgElements(empty).some((e) => e.text === 'no grid points'));
  const single = gridHeatmap('g', grid([], [], 1), { alpha: 1, temperature: 1 });
  const { cells } = cellsOf(single);
  t.equal(cells.length, 1);
  t.equal(cells[0].texts.value, '0.2790');
  t.notMatch(single, /NaN|Infinity|undefined/);
  const lone = gridHeatmap('g', grid([0.5], [2], 1).slice(1), { alpha: 0.5, temperature: 2 });
  t.equal(cellsOf(lone).cells.length, 1);
  t.notMatch(lone, /NaN|Infinity|undefined/);
});
