import t from 'tap';
import { boxesOverlap, textWidth } from '../../../trainer/report/labels.js';
import { escapeXml, lineChart, scatterLogX, zeroBasedAxis } from '../../../trainer/report/svgChart.js';
import { svgElements } from '../../helpers/svgXml.js';

// The models of a real full run on goodbooks-10k (out/full/report.json): six students and ease-top16
// share one size and lie within 0.006 NDCG of each other, two of them on exactly one spot.
const FULL_RUN = [
  { label: 'pop', x: 10000, y: 0.00045 },
  { label: 'itemknn', x: 21197232, y: 0.22505 },
  { label: 'ease', x: 100000000, y: 0.2774 },
  { label: 'ease-top16', x: 160000, y: 0.27276 },
  { label: 'teacher', x: 105120257, y: 0.27744 },
  { label: 'student-start', x: 160000, y: 0.27326 },
  { label: 'student-nokd', x: 160000, y: 0.27909 },
  { label: 'student-kd', x: 160000, y: 0.27894 },
  { label: 'student-knn', x: 160000, y: 0.27927 },
  { label: 'student', x: 160000, y: 0.27909 },
];

const num = (v: string | undefined) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`not a number: ${v}`);
  return n;
};

/** The centre of a marker of any shape (circle, square, polygon). */
function centre(e: { tag: string; attrs: Record<string, string> }): [number, number] {
  if (e.tag === 'circle') return [num(e.attrs.cx), num(e.attrs.cy)];
  if (e.tag === 'rect') {
    return [num(e.attrs.x) + num(e.attrs.width) / 2, num(e.attrs.y) + num(e.attrs.height) / 2];
  }
  const xy = e.attrs.points.split(' ').map((p) => p.split(',').map(num));
  const xs = xy.map((p) => p[0]);
  const ys = xy.map((p) => p[1]);
  return [(Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2];
}

t.test('labels are escaped; the SVG parses; points land inside the frame', async (t) => {
  t.equal(escapeXml(`<a & "b">`), '&#60;a &#38; &#34;b&#34;&#62;');
  const svg = scatterLogX('t', 'x', 'y', [
    { x: 1e3, y: 0.1, label: 'pop <small>' },
    { x: 1e8, y: 0.3, label: 'ease' },
  ]);
  const els = svgElements(svg);
  t.same(
    els.filter((e) => e.attrs.class === 'label').map((e) => e.text),
    ['pop &#60;small&#62;', 'ease'],
    'label text survives as text, not markup',
  );
  const xs = els.filter((e) => e.attrs.class === 'marker').map(centre);
  t.equal(xs.length, 2);
  for (const [x, y] of xs) t.ok(x >= 70 && x <= 690 && y >= 40 && y <= 380, `(${x}, ${y}) inside`);
  t.ok(xs[0][0] < xs[1][0] && xs[0][1] > xs[1][1], 'bigger and better lies right and up');
});

t.test('crowded real points: every label box is clear of every other label and point', async (t) => {
  const els = svgElements(scatterLogX('q', 'x', 'NDCG@10', FULL_RUN));
  const markers = els.filter((e) => e.attrs.class === 'marker');
  const labels = els.filter((e) => e.attrs.class === 'label');
  t.equal(labels.length, FULL_RUN.length);
  t.same(
    labels.map((l) => l.text),
    FULL_RUN.map((p) => p.label),
  );
  // Boxes as the chart drew them: the colour key (7 px) then the text from its start; 15 px tall with
  // the baseline 3.6 px above the bottom (12 px font).
  const boxes = labels.map((l) => ({
    x: num(l.attrs.x) - 7,
    y: num(l.attrs.y) + 3.6 - 15,
    w: 7 + textWidth(l.text, 12),
    h: 15,
  }));
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      t.notOk(boxesOverlap(boxes[i], boxes[j]), `${labels[i].text} and ${labels[j].text} apart`);
    }
    for (const m of markers) {
      const [cx, cy] = centre(m);
      t.notOk(
        boxesOverlap(boxes[i], { x: cx - 5, y: cy - 5, w: 10, h: 10 }),
        `${labels[i].text} off a point`,
      );
    }
    t.ok(boxes[i].x >= 70 && boxes[i].x + boxes[i].w <= 860, `${labels[i].text} inside the chart`);
  }
  // Each label is next to its point or joined to it by a leader line starting at the point.
  const leaders = els.filter((e) => e.attrs.class === 'leader');
  labels.forEach((l, i) => {
    const [cx, cy] = centre(markers[i]);
    const b = boxes[i];
    const gap = Math.hypot(Math.max(b.x - cx, 0, cx - b.x - b.w), Math.max(b.y - cy, 0, cy - b.y - b.h));
    const led = leaders.some(
      (e) =>
        Math.hypot(num(e.attrs.x1) - cx, num(e.attrs.y1) - cy) <= 5.5 &&
        boxesOverlap({ x: num(e.attrs.x2) - 1, y: num(e.attrs.y2) - 1, w: 2, h: 2 }, b),
    );
    t.ok(gap <= 14 || led, `${l.text}: ${gap.toFixed(0)} px from its point${led ? ', with a leader' : ''}`);
  });
});

t.test('the NDCG axis starts at 0, also when every value is high or near zero', async (t) => {
  for (const ys of [[0.27, 0.28], [0.0005, 0.279], [0, 0], [0.02]]) {
    const axis = zeroBasedAxis(ys);
    t.equal(axis.domain[0], 0, `${ys}: from 0`);
    t.ok(axis.domain[1] >= Math.max(...ys), `${ys}: up to the largest`);
    t.equal(axis.ticks[0][1].replace(/[.0]/g, ''), '', `${ys}: first tick reads 0 (${axis.ticks[0][1]})`);
    t.notOk(
      axis.ticks.some(([v]) => v < 0),
      `${ys}: no negative tick`,
    );
  }
  const ticks = svgElements(scatterLogX('q', 'x', 'y', FULL_RUN))
    .filter((e) => e.attrs.class === 'y-tick')
    .map((e) => Number(e.text));
  t.equal(Math.min(...ticks), 0);
  const curveTicks = svgElements(
    lineChart('c', 'epoch', 'ndcg', [
      {
        name: 'a',
        points: [
          { x: 1, y: 0.27 },
          { x: 2, y: 0.28 },
        ],
      },
    ]),
  )
    .filter((e) => e.attrs.class === 'y-tick')
    .map((e) => Number(e.text));
  t.equal(Math.min(...curveTicks), 0);
});

t.test('every series gets its own colour, and past eight its own colour and shape', async (t) => {
  const style = (n: number) => {
    const points = Array.from({ length: n }, (_, i) => ({
      x: 10 ** (3 + (i % 6)),
      y: 0.05 * (i % 5),
      label: `m${i}`,
    }));
    return svgElements(scatterLogX('q', 'x', 'y', points))
      .filter((e) => e.attrs.class === 'marker')
      .map((e) => `${e.tag} ${e.attrs.fill}`);
  };
  const eight = style(8);
  t.equal(new Set(eight.map((s) => s.split(' ')[1])).size, 8, 'eight colours');
  const twenty = style(20);
  t.equal(new Set(twenty).size, 20, 'twenty distinct colour and shape pairs');
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
  const els = svgElements(svg);
  const paths = els.filter((e) => e.tag === 'path');
  t.equal(paths.length, 2);
  t.not(paths[0].attrs.stroke, paths[1].attrs.stroke, 'distinct colours');
  t.notMatch(svg, /NaN|Infinity/);
});
