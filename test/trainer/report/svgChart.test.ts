import t from 'tap';
import { escapeXml, lineChart, scatterLogX } from '../../../trainer/report/svgChart.js';

t.test('labels are escaped; points land inside the frame', async (t) => {
  t.equal(escapeXml(`<a & "b">`), '&#60;a &#38; &#34;b&#34;&#62;');
  const svg = scatterLogX('t', 'x', 'y', [
    { x: 1e3, y: 0.1, label: 'pop <small>' },
    { x: 1e8, y: 0.3, label: 'ease' },
  ]);
  t.notMatch(svg, /<small>/);
  const xs = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [
    Number(m[1]),
    Number(m[2]),
  ]);
  t.equal(xs.length, 2);
  for (const [x, y] of xs) t.ok(x >= 70 && x <= 690 && y >= 40 && y <= 380, `(${x}, ${y}) inside`);
  t.ok(xs[0][0] < xs[1][0] && xs[0][1] > xs[1][1], 'bigger and better lies right and up');
});

t.test('line chart draws one path per series, tolerating a single point', async (t) => {
  const svg = lineChart('c', 'epoch', 'ndcg', [
    {
      name: 'a',
      points: [
        { x: 1, y: 0.2 },
        { x: 2, y: 0.25 },
      ],
    },
    { name: 'b', points: [{ x: 1, y: 0.2 }] },
  ]);
  t.equal([...svg.matchAll(/<path /g)].length, 2);
  t.notMatch(svg, /NaN|Infinity/);
});
