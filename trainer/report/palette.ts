/**
 * Colours and markers of the report's charts, safe for the common colour-vision deficiencies: the
 * Okabe-Ito palette for series (yellow last: it is the hardest to see on white) and viridis for
 * heatmaps. Series past the palette's eight keep distinct by their marker's shape.
 */
export const SERIES_COLOURS = [
  '#0072B2', // blue
  '#D55E00', // vermillion
  '#009E73', // bluish green
  '#CC79A7', // reddish purple
  '#E69F00', // orange
  '#56B4E9', // sky blue
  '#000000', // black
  '#F0E442', // yellow
];

export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond';
const SHAPES: MarkerShape[] = ['circle', 'square', 'triangle', 'diamond'];

export interface SeriesStyle {
  colour: string;
  shape: MarkerShape;
}

/** Series i's style: distinct for the first 32 series. */
export function seriesStyle(i: number): SeriesStyle {
  const n = SERIES_COLOURS.length;
  return { colour: SERIES_COLOURS[i % n], shape: SHAPES[Math.floor(i / n) % SHAPES.length] };
}

/** A marker of radius r at (cx, cy); the thin dark edge keeps light colours visible on white. */
export function marker(style: SeriesStyle, cx: number, cy: number, r: number, cls = 'marker'): string {
  const paint = `fill="${style.colour}" stroke="#333" stroke-width="0.8"`;
  const f = (v: number) => v.toFixed(1);
  switch (style.shape) {
    case 'circle':
      return `<circle class="${cls}" cx="${f(cx)}" cy="${f(cy)}" r="${r}" ${paint}/>`;
    case 'square':
      return `<rect class="${cls}" x="${f(cx - r * 0.9)}" y="${f(cy - r * 0.9)}" width="${f(r * 1.8)}" height="${f(r * 1.8)}" ${paint}/>`;
    case 'triangle':
      return `<polygon class="${cls}" points="${f(cx)},${f(cy - r)} ${f(cx + r)},${f(cy + r * 0.8)} ${f(cx - r)},${f(cy + r * 0.8)}" ${paint}/>`;
    case 'diamond':
      return `<polygon class="${cls}" points="${f(cx)},${f(cy - r)} ${f(cx + r)},${f(cy)} ${f(cx)},${f(cy + r)} ${f(cx - r)},${f(cy)}" ${paint}/>`;
  }
}

// Viridis at ten even steps (matplotlib's table).
const VIRIDIS = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 73, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [110, 206, 88],
  [181, 222, 43],
  [253, 231, 37],
];

const hex = (rgb: number[]) => `#${rgb.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;

/** Viridis at t in [0, 1] (clamped): dark purple (low) to yellow (high). */
export function viridis(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  return hex(VIRIDIS[i].map((v, k) => v + (VIRIDIS[i + 1][k] - v) * f));
}

/** The gradient stops of viridis, for a legend bar. */
export function viridisStops(): { offset: number; colour: string }[] {
  return VIRIDIS.map((rgb, i) => ({ offset: i / (VIRIDIS.length - 1), colour: hex(rgb) }));
}

/** Black or white, whichever reads better on the background colour (#rrggbb). */
export function textColourOn(background: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(background.slice(i, i + 2), 16) / 255);
  const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return lum > 0.4 ? '#000000' : '#ffffff';
}
