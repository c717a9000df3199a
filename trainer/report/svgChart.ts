/**
 * Small dependency-free SVG charts for the training report: a labelled scatter (quality vs model size)
 * and line charts (learning curves). Text is escaped; numbers are laid out on linear or log10 axes.
 * Quality axes start at 0 so that heights compare honestly.
 */
import { placeLabels } from './labels.js';
import { marker, seriesStyle } from './palette.js';

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
// The right margin holds the legend of line charts and overflowing labels of the scatter.
const M = { left: 70, right: 170, top: 40, bottom: 60 };
const FONT = 12;
const R = 5;
/** Width of the key marker before a scatter label. */
const KEY = 7;

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

/** A step of 1, 2 or 5 x 10^k giving about `count` intervals over span. */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const k = 10 ** Math.floor(Math.log10(raw));
  const m = raw / k;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * k;
}

/**
 * A quality axis: from 0 (or below, only if a value is negative) to a round value above the largest,
 * with its ticks and their labels.
 */
export function zeroBasedAxis(values: number[]): { domain: [number, number]; ticks: [number, string][] } {
  const finite = values.filter(Number.isFinite);
  const lo = Math.min(0, ...finite);
  const hi = Math.max(...finite, lo);
  const step = hi > lo ? niceStep(hi - lo, 5) : 0.1;
  const domain: [number, number] = [Math.floor(lo / step) * step, Math.ceil(hi / step) * step || step];
  if (domain[1] - hi < step * 0.05) domain[1] += step; // headroom for the top point's marker and label
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const ticks: [number, string][] = [];
  for (let i = 0; domain[0] + i * step <= domain[1] + step / 1e6; i++) {
    const v = domain[0] + i * step;
    ticks.push([v, (Math.abs(v) < step / 1e6 ? 0 : v).toFixed(decimals)]);
  }
  return { domain, ticks };
}

type Tick = [number, string];

function frame(title: string, xLabel: string, yLabel: string, xTicks: Tick[], yTicks: Tick[]): string[] {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="${FONT}">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
    `<text x="${W / 2}" y="${H - 15}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text x="18" y="${H / 2}" text-anchor="middle" transform="rotate(-90 18 ${H / 2})">${escapeXml(yLabel)}</text>`,
  ];
  for (const [py, label] of yTicks) {
    parts.push(`<line x1="${M.left}" y1="${py}" x2="${W - M.right}" y2="${py}" stroke="#e4e4e4"/>`);
    parts.push(`<line x1="${M.left - 5}" y1="${py}" x2="${M.left}" y2="${py}" stroke="black"/>`);
    parts.push(
      `<text class="y-tick" x="${M.left - 8}" y="${py + 4}" text-anchor="end">${escapeXml(label)}</text>`,
    );
  }
  for (const [px, label] of xTicks) {
    parts.push(`<line x1="${px}" y1="${H - M.bottom}" x2="${px}" y2="${H - M.bottom + 5}" stroke="black"/>`);
    parts.push(`<text x="${px}" y="${H - M.bottom + 18}" text-anchor="middle">${escapeXml(label)}</text>`);
  }
  parts.push(
    `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="black"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="black"/>`,
  );
  return parts;
}

function linear(domain: [number, number], range: [number, number]): (v: number) => number {
  return (v) => range[0] + ((v - domain[0]) / (domain[1] - domain[0])) * (range[1] - range[0]);
}

/** Round values (1, 2 or 5 x 10^k apart) inside the domain; whole numbers only if asked. */
function roundTicks(domain: [number, number], whole: boolean): number[] {
  const step = Math.max(niceStep(domain[1] - domain[0], 5), whole ? 1 : 0);
  const out: number[] = [];
  for (let v = Math.ceil(domain[0] / step) * step; v <= domain[1]; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

const f1 = (v: number) => v.toFixed(1);

/**
 * Scatter with x on a log10 axis (model sizes span 10^3 to 10^8) and y from 0. Each point has its own
 * colour (and past eight, marker shape) and its label beside it, or nearby with a leader line where
 * points crowd.
 */
export function scatterLogX(title: string, xLabel: string, yLabel: string, points: Point[]): string {
  const xs = points.map((p) => Math.log10(Math.max(1, p.x)));
  const xd = extent(xs);
  const y = zeroBasedAxis(points.map((p) => p.y));
  const sx = linear(xd, [M.left, W - M.right]);
  const sy = linear(y.domain, [H - M.bottom, M.top]);
  const xTicks: Tick[] = [];
  for (let e = Math.ceil(xd[0]); e <= Math.floor(xd[1]); e++) xTicks.push([sx(e), `1e${e}`]);
  const yTicks = y.ticks.map(([v, label]): Tick => [sy(v), label]);
  const parts = frame(title, xLabel, yLabel, xTicks, yTicks);
  const at = points.map((p, i) => ({ x: sx(xs[i]), y: sy(p.y), text: p.label }));
  const placements = placeLabels(at, {
    fontSize: FONT,
    markerRadius: R,
    prefixWidth: KEY,
    bounds: { x: M.left + 2, y: M.top - 10, w: W - M.left - 12, h: H - M.bottom - M.top + 8 },
  });
  for (const { leader } of placements) {
    if (leader) {
      parts.push(
        `<line class="leader" x1="${f1(leader.x1)}" y1="${f1(leader.y1)}" x2="${f1(leader.x2)}" y2="${f1(leader.y2)}" stroke="#888" stroke-width="0.8"/>`,
      );
    }
  }
  at.forEach((p, i) => {
    parts.push(marker(seriesStyle(i), p.x, p.y, R));
  });
  placements.forEach(({ box }, i) => {
    // A bar of the point's colour keys the label where points sit on one another (not a marker: it
    // would read as one more point).
    parts.push(
      `<rect class="key" x="${f1(box.x + 1)}" y="${f1(box.y + 2)}" width="3" height="${f1(box.h - 4)}" fill="${seriesStyle(i).colour}"/>`,
    );
    // The baseline sits 0.3 em above the box's bottom (room for descenders).
    parts.push(
      `<text class="label" x="${f1(box.x + KEY)}" y="${f1(box.y + box.h - FONT * 0.3)}" fill="#222">${escapeXml(at[i].text)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Line chart of several series over a shared linear x axis (epochs), y from 0. */
export function lineChart(title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const all = series.flatMap((s) => s.points);
  const xd = extent(all.map((p) => p.x));
  const y = zeroBasedAxis(all.map((p) => p.y));
  const sx = linear(xd, [M.left, W - M.right]);
  const sy = linear(y.domain, [H - M.bottom, M.top]);
  const xTicks = roundTicks(
    xd,
    all.every((p) => Number.isInteger(p.x)),
  ).map((v): Tick => [sx(v), String(v)]);
  const yTicks = y.ticks.map(([v, label]): Tick => [sy(v), label]);
  const parts = frame(title, xLabel, yLabel, xTicks, yTicks);
  series.forEach((s, i) => {
    const style = seriesStyle(i);
    const d = s.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${f1(sx(p.x))},${f1(sy(p.y))}`).join(' ');
    if (s.points.length > 0)
      parts.push(`<path d="${d}" fill="none" stroke="${style.colour}" stroke-width="2"/>`);
    for (const p of s.points) parts.push(marker(style, sx(p.x), sy(p.y), 3));
    const ly = M.top + 18 * (i + 1);
    parts.push(
      `<line x1="${W - M.right + 12}" y1="${ly - 4}" x2="${W - M.right + 34}" y2="${ly - 4}" stroke="${style.colour}" stroke-width="2"/>`,
    );
    parts.push(marker(style, W - M.right + 23, ly - 4, 3));
    parts.push(`<text x="${W - M.right + 40}" y="${ly}" fill="#222">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
