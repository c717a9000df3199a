/**
 * Deterministic label placement for scatter charts: each label goes to the free spot nearest its point,
 * never over another label, another point or a leader line; a label placed away from its point gets a
 * leader line back to it. Greedy and exhaustive over a lattice of candidate spots, so it finds room
 * wherever the plot has some (a chart has tens of labels, not thousands).
 */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Segment {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface LabelRequest {
  /** The point the label names, in pixels. */
  x: number;
  y: number;
  text: string;
}

export interface Placement {
  box: Box;
  /** From the point's marker edge to the box; null when the box is next to its point. */
  leader: Segment | null;
}

export interface LabelOptions {
  fontSize: number;
  /** Where labels may go. */
  bounds: Box;
  /** Half the size of a point's marker: labels keep off every marker. */
  markerRadius: number;
  /** Room before each label's text, e.g. for a key marker (pixels). */
  prefixWidth?: number;
}

// Width of a glyph in em for common sans-serif fonts (DejaVu Sans, Arial), erring wide so the boxes
// drawn by any renderer stay inside the boxes placed here.
function glyphEm(c: string): number {
  if ("iljtfrI.,:;'|!-() ".includes(c)) return 0.4;
  if ('mwMW@'.includes(c)) return 0.95;
  if (c >= 'A' && c <= 'Z') return 0.75;
  return 0.64;
}

export function textWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const c of text) em += glyphEm(c);
  return Math.ceil(em * fontSize) + 2;
}

export function boxesOverlap(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** Liang-Barsky clipping: does the segment pass through the box's interior? */
export function segmentHitsBox(s: Segment, b: Box): boolean {
  const dx = s.x2 - s.x1;
  const dy = s.y2 - s.y1;
  let t0 = 0;
  let t1 = 1;
  const edges: [number, number][] = [
    [-dx, s.x1 - b.x],
    [dx, b.x + b.w - s.x1],
    [-dy, s.y1 - b.y],
    [dy, b.y + b.h - s.y1],
  ];
  for (const [p, q] of edges) {
    if (p === 0) {
      if (q <= 0) return false;
      continue;
    }
    const r = q / p;
    if (p < 0) t0 = Math.max(t0, r);
    else t1 = Math.min(t1, r);
    if (t0 >= t1) return false;
  }
  return true;
}

const inside = (b: Box, outer: Box) =>
  b.x >= outer.x && b.y >= outer.y && b.x + b.w <= outer.x + outer.w && b.y + b.h <= outer.y + outer.h;

function nearestOnBox(px: number, py: number, b: Box): [number, number] {
  return [Math.min(Math.max(px, b.x), b.x + b.w), Math.min(Math.max(py, b.y), b.y + b.h)];
}

/** Candidate boxes around a point, nearest first; equal distances keep the order right, left, above, below. */
function candidates(p: LabelRequest, w: number, h: number, o: LabelOptions): Box[] {
  const gap = o.markerRadius + 3;
  const rowStep = Math.ceil(h / 2);
  const colStep = 12;
  const rows = Math.ceil(o.bounds.h / rowStep);
  const cols = Math.ceil(o.bounds.w / colStep);
  const out: Box[] = [
    { x: p.x + gap, y: p.y - h / 2, w, h },
    { x: p.x - gap - w, y: p.y - h / 2, w, h },
    { x: p.x - w / 2, y: p.y - gap - h, w, h },
    { x: p.x - w / 2, y: p.y + gap, w, h },
  ];
  for (let j = 0; j <= cols; j++) {
    for (let k = 1; k <= rows; k++) {
      for (const dy of [-k * rowStep, k * rowStep]) {
        out.push({ x: p.x + gap + j * colStep, y: p.y - h / 2 + dy, w, h });
        out.push({ x: p.x - gap - w - j * colStep, y: p.y - h / 2 + dy, w, h });
      }
    }
    if (j > 0) {
      out.push({ x: p.x + gap + j * colStep, y: p.y - h / 2, w, h });
      out.push({ x: p.x - gap - w - j * colStep, y: p.y - h / 2, w, h });
    }
  }
  const distance = (b: Box) => {
    const [nx, ny] = nearestOnBox(p.x, p.y, b);
    return Math.hypot(nx - p.x, ny - p.y);
  };
  return out
    .map((b, i) => ({ b, i, d: distance(b) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((c) => c.b);
}

function leaderFor(p: LabelRequest, b: Box, o: LabelOptions): Segment | null {
  const [nx, ny] = nearestOnBox(p.x, p.y, b);
  const d = Math.hypot(nx - p.x, ny - p.y);
  if (d <= o.markerRadius + 6) return null;
  const start = o.markerRadius / d;
  return { x1: p.x + (nx - p.x) * start, y1: p.y + (ny - p.y) * start, x2: nx, y2: ny };
}

/**
 * Places every label (in the order given: earlier labels get the better spots). A label that finds no
 * free spot anywhere in the bounds goes to the right of its point, overlapping; a test guards that real
 * charts never need this.
 */
export function placeLabels(requests: LabelRequest[], o: LabelOptions): Placement[] {
  const r = o.markerRadius + 1;
  const markers: Box[] = requests.map((p) => ({ x: p.x - r, y: p.y - r, w: 2 * r, h: 2 * r }));
  const boxes: Box[] = [];
  const leaders: Segment[] = [];
  return requests.map((p) => {
    const w = (o.prefixWidth ?? 0) + textWidth(p.text, o.fontSize);
    const h = Math.ceil(o.fontSize * 1.25);
    const all = candidates(p, w, h, o);
    for (const box of all) {
      if (!inside(box, o.bounds)) continue;
      if (markers.some((m) => boxesOverlap(box, m))) continue;
      if (boxes.some((b) => boxesOverlap(box, b))) continue;
      if (leaders.some((l) => segmentHitsBox(l, box))) continue;
      const leader = leaderFor(p, box, o);
      if (leader && boxes.some((b) => segmentHitsBox(leader, b))) continue;
      boxes.push(box);
      if (leader) leaders.push(leader);
      return { box, leader };
    }
    const box = all[0];
    boxes.push(box);
    return { box, leader: null };
  });
}
