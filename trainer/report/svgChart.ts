/**
 * Small dependency-free SVG charts for the training report: a labelled scatter (quality vs model size)
 * and line charts (learning curves). Text is escaped; numbers are laid out on linear or log10 axes.
 */
export interface Point {
  x: number;
  y: number;
  label: string;
}

export interface Series {
  name: string;
  points: { x: number; y: number }[];
}

const W = 860;
const H = 440;
// The right margin holds the legend of line charts.
const M = { left: 70, right: 170, top: 40, bottom: 60 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function extent(values: number[]): [number, number] {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const pad = (hi - lo) * 0.08;
  return [lo - pad, hi + pad];
}

type Tick = [number, string];

function frame(title: string, xLabel: string, yLabel: string, xTicks: Tick[], yTicks: Tick[]): string[] {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
    `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="black"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="black"/>`,
    `<text x="${W / 2}" y="${H - 15}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text x="18" y="${H / 2}" text-anchor="middle" transform="rotate(-90 18 ${H / 2})">${escapeXml(yLabel)}</text>`,
  ];
  for (const [px, label] of xTicks) {
    parts.push(`<line x1="${px}" y1="${H - M.bottom}" x2="${px}" y2="${H - M.bottom + 5}" stroke="black"/>`);
    parts.push(`<text x="${px}" y="${H - M.bottom + 18}" text-anchor="middle">${escapeXml(label)}</text>`);
  }
  for (const [py, label] of yTicks) {
    parts.push(`<line x1="${M.left - 5}" y1="${py}" x2="${M.left}" y2="${py}" stroke="black"/>`);
    parts.push(`<text x="${M.left - 8}" y="${py + 4}" text-anchor="end">${escapeXml(label)}</text>`);
  }
  return parts;
}

function linear(domain: [number, number], range: [number, number]): (v: number) => number {
  return (v) => range[0] + ((v - domain[0]) / (domain[1] - domain[0])) * (range[1] - range[0]);
}

function evenTicks(domain: [number, number], count: number): number[] {
  const step = (domain[1] - domain[0]) / count;
  return Array.from({ length: count + 1 }, (_, i) => domain[0] + i * step);
}

/** Scatter with x on a log10 axis (model sizes span 10^3 to 10^8). */
export function scatterLogX(title: string, xLabel: string, yLabel: string, points: Point[]): string {
  const xs = points.map((p) => Math.log10(Math.max(1, p.x)));
  const xd = extent(xs);
  const yd = extent(points.map((p) => p.y));
  const sx = linear(xd, [M.left, W - M.right]);
  const sy = linear(yd, [H - M.bottom, M.top]);
  const xTicks: Tick[] = [];
  for (let e = Math.ceil(xd[0]); e <= Math.floor(xd[1]); e++) xTicks.push([sx(e), `1e${e}`]);
  const yTicks = evenTicks(yd, 5).map((v): Tick => [sy(v), v.toFixed(3)]);
  const parts = frame(title, xLabel, yLabel, xTicks, yTicks);
  const placed: [number, number][] = [];
  points.forEach((p, i) => {
    const cx = sx(xs[i]);
    const cy = sy(p.y);
    const color = COLORS[i % COLORS.length];
    parts.push(`<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="5" fill="${color}"/>`);
    // Models of the same size and quality sit on one spot: stack their labels instead of overprinting.
    let ly = cy - 6;
    while (placed.some(([px, py]) => Math.abs(px - cx) < 90 && Math.abs(py - ly) < 13)) ly += 13;
    placed.push([cx, ly]);
    parts.push(
      `<text x="${(cx + 8).toFixed(1)}" y="${ly.toFixed(1)}" fill="${color}">${escapeXml(p.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Line chart of several series over a shared linear x axis (epochs). */
export function lineChart(title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const all = series.flatMap((s) => s.points);
  const xd = extent(all.map((p) => p.x));
  const yd = extent(all.map((p) => p.y));
  const sx = linear(xd, [M.left, W - M.right]);
  const sy = linear(yd, [H - M.bottom, M.top]);
  const xTicks = evenTicks(xd, 5).map((v): Tick => [sx(v), v.toFixed(1)]);
  const yTicks = evenTicks(yd, 5).map((v): Tick => [sy(v), v.toFixed(3)]);
  const parts = frame(title, xLabel, yLabel, xTicks, yTicks);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const d = s.points
      .map((p, k) => `${k === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
      .join(' ');
    if (s.points.length > 0) parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of s.points) {
      parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${color}"/>`);
    }
    parts.push(
      `<text x="${W - M.right + 12}" y="${M.top + 16 * (i + 1)}" fill="${color}">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
