/**
 * The a x T heatmap of `bookrec grid`: one cell per (a, T) coloured by its validation NDCG@10 (viridis,
 * with a legend bar), the value printed in the cell, the seed spread (min-max) under it when several
 * seeds ran, and the chosen cell outlined. a = 1 (no distillation, T unused) is one row-wide cell below.
 */
import { textColourOn, viridis, viridisStops } from './palette.js';
import { escapeXml } from './svgChart.js';

export interface HeatCell {
  alpha: number;
  temperature: number;
  /** Mean over seeds. */
  value: number;
  min: number;
  max: number;
  seeds: number;
}

const CW = 112;
const CH = 50;
const LEFT = 96;
const TOP = 80;
const GAP = 12;
const LEGEND = 150;
const FONT = 12;

const f4 = (v: number) => v.toFixed(4);

export function gridHeatmap(
  title: string,
  cells: HeatCell[],
  chosen: { alpha: number; temperature: number },
): string {
  const distilled = cells.filter((c) => c.alpha < 1);
  const reference = cells.find((c) => c.alpha >= 1);
  const alphas = [...new Set(distilled.map((c) => c.alpha))].sort((a, b) => a - b);
  const temps = [...new Set(distilled.map((c) => c.temperature))].sort((a, b) => a - b);
  const cols = Math.max(1, temps.length);
  const gridBottom = TOP + alphas.length * CH + (reference ? GAP + CH : 0);
  const width = Math.max(460, LEFT + cols * CW + 24 + LEGEND);
  const height = Math.max(gridBottom, TOP + 3 * CH) + 52;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
  ];
  if (cells.length === 0) {
    parts.push(`<text x="${width / 2}" y="${TOP + CH}" text-anchor="middle">no grid points</text>`, '</svg>');
    return parts.join('\n');
  }
  const values = cells.map((c) => c.value).filter(Number.isFinite);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const shade = (v: number) => (hi > lo ? (v - lo) / (hi - lo) : 0.5);
  const gridRight = LEFT + cols * CW;
  parts.push(
    `<text x="${(LEFT + gridRight) / 2}" y="${TOP - 28}" text-anchor="middle">temperature T</text>`,
    `<text x="${LEFT - 10}" y="${TOP - 10}" text-anchor="end">a</text>`,
  );
  temps.forEach((t, j) => {
    parts.push(`<text x="${LEFT + (j + 0.5) * CW}" y="${TOP - 10}" text-anchor="middle">T = ${t}</text>`);
  });
  alphas.forEach((a, i) => {
    parts.push(`<text x="${LEFT - 10}" y="${TOP + (i + 0.5) * CH + 4}" text-anchor="end">a = ${a}</text>`);
  });

  const isChosen = (c: HeatCell) =>
    c.alpha === chosen.alpha && (c.alpha >= 1 || c.temperature === chosen.temperature);
  const drawCell = (c: HeatCell | undefined, x: number, y: number, w: number) => {
    if (!c) {
      parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${CH}" fill="#f2f2f2" stroke="white"/>`);
      parts.push(
        `<text x="${x + w / 2}" y="${y + CH / 2 + 4}" text-anchor="middle" fill="#777">not run</text>`,
      );
      return;
    }
    const fill = viridis(shade(c.value));
    const ink = textColourOn(fill);
    const spread = c.seeds > 1;
    parts.push(
      `<g class="cell" data-alpha="${c.alpha}" data-temperature="${c.alpha >= 1 ? '' : c.temperature}">`,
      `<rect x="${x}" y="${y}" width="${w}" height="${CH}" fill="${fill}" stroke="white"/>`,
      `<text class="value" x="${x + w / 2}" y="${y + (spread ? CH / 2 - 2 : CH / 2 + 5)}" text-anchor="middle" font-size="14" fill="${ink}">${f4(c.value)}</text>`,
    );
    if (spread) {
      parts.push(
        `<text class="spread" x="${x + w / 2}" y="${y + CH / 2 + 14}" text-anchor="middle" font-size="10" fill="${ink}">${f4(c.min)}–${f4(c.max)}</text>`,
      );
    }
    parts.push('</g>');
  };
  alphas.forEach((a, i) => {
    temps.forEach((t, j) => {
      drawCell(
        distilled.find((c) => c.alpha === a && c.temperature === t),
        LEFT + j * CW,
        TOP + i * CH,
        CW,
      );
    });
  });
  const refY = TOP + alphas.length * CH + (alphas.length > 0 ? GAP : 0);
  if (reference) {
    parts.push(`<text x="${LEFT - 10}" y="${refY + CH / 2 - 3}" text-anchor="end">a = 1</text>`);
    parts.push(
      `<text x="${LEFT - 10}" y="${refY + CH / 2 + 11}" text-anchor="end" font-size="10">no KD, any T</text>`,
    );
    drawCell(reference, LEFT, refY, cols * CW);
  }
  // The outline goes last so no neighbouring cell paints over it.
  const pick = cells.find(isChosen);
  if (pick) {
    const x = pick.alpha >= 1 ? LEFT : LEFT + temps.indexOf(pick.temperature) * CW;
    const y = pick.alpha >= 1 ? refY : TOP + alphas.indexOf(pick.alpha) * CH;
    const w = pick.alpha >= 1 ? cols * CW : CW;
    parts.push(
      `<rect class="chosen" data-alpha="${pick.alpha}" data-temperature="${pick.alpha >= 1 ? '' : pick.temperature}" x="${x + 1.5}" y="${y + 1.5}" width="${w - 3}" height="${CH - 3}" fill="none" stroke="#000" stroke-width="3"/>`,
      `<rect x="${x + 4}" y="${y + 4}" width="${w - 8}" height="${CH - 8}" fill="none" stroke="#fff" stroke-width="1"/>`,
    );
  }
  parts.push(...legend(gridRight + 24, TOP, lo, hi));
  const seeds = Math.max(...cells.map((c) => c.seeds));
  parts.push(
    `<text x="${LEFT}" y="${height - 30}">${escapeXml(
      seeds > 1
        ? `Mean over ${seeds} seeds; min–max over seeds below it.`
        : 'One seed per cell (no spread to show).',
    )}</text>`,
    `<text x="${LEFT}" y="${height - 12}">${escapeXml(
      pick
        ? `Outlined: chosen on validation (a = ${pick.alpha}${pick.alpha < 1 ? `, T = ${pick.temperature}` : ''}).`
        : 'The chosen setting is not in the grid.',
    )}</text>`,
    '</svg>',
  );
  return parts.join('\n');
}

/** A vertical viridis bar from lo (bottom) to hi (top) with its values. */
function legend(x: number, y: number, lo: number, hi: number): string[] {
  const h = 3 * CH;
  const parts = [
    '<defs><linearGradient id="viridis" x1="0" y1="1" x2="0" y2="0">',
    ...viridisStops().map((s) => `<stop offset="${s.offset.toFixed(3)}" stop-color="${s.colour}"/>`),
    '</linearGradient></defs>',
    `<text x="${x}" y="${y - 10}">validation NDCG@10</text>`,
    `<rect class="legend" x="${x}" y="${y}" width="16" height="${h}" fill="url(#viridis)" stroke="#999"/>`,
  ];
  const ticks = hi > lo ? [0, 0.5, 1] : [0.5];
  for (const t of ticks) {
    const ty = y + h - t * h;
    parts.push(
      `<line x1="${x + 16}" y1="${ty}" x2="${x + 21}" y2="${ty}" stroke="black"/>`,
      `<text x="${x + 24}" y="${ty + 4}">${f4(lo + t * (hi - lo))}</text>`,
    );
  }
  return parts;
}
