import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { BookEntry } from '../common/model/catalogue.js';
import type { HeldOutReader } from './reader.js';
import type { WavLevels } from './sound.js';

/** How the demo's terminal output looks: one line per step, then the answer and how it fared. */

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A step line: number, name, what happened, and how long it took. */
export function stepLine(n: number, name: string, text: string, ms?: number): string {
  const head = `${String(n).padStart(2)}. ${name.padEnd(9)} ${text}`;
  return ms === undefined ? head : `${head} (${seconds(ms)})`;
}

/** A path as the person who ran the demo would type it: relative to where they stand. */
export function shown(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

/** From the training report: the student's and the teacher's NDCG@10 and the student's HR@10. */
export interface Quality {
  line: string;
  /** Share of held-out readers with at least one held-back book in the student's top 10. */
  hitRate10?: number;
  testReaders?: number;
}

export async function trainQuality(trainDir: string): Promise<Quality | undefined> {
  try {
    const report = JSON.parse(await readFile(join(trainDir, 'report.json'), 'utf8')) as {
      models: { name: string; metrics: Record<string, number> }[];
      split?: { testUsers?: number };
    };
    const ndcg = (name: string) => report.models.find((m) => m.name === name)?.metrics['ndcg@10'];
    const s = ndcg('student');
    const t = ndcg('teacher');
    const p = ndcg('pop');
    if (s === undefined || t === undefined) return undefined;
    const line =
      `student NDCG@10 ${s.toFixed(3)} vs teacher ${t.toFixed(3)}` +
      (p === undefined ? '' : `, popularity ${p.toFixed(3)}`) +
      ` on ${report.split?.testUsers ?? '?'} held-out readers`;
    return {
      line,
      hitRate10: report.models.find((m) => m.name === 'student')?.metrics['hr@10'],
      testReaders: report.split?.testUsers,
    };
  } catch {
    return undefined;
  }
}

export interface AnswerView {
  deviceId: string;
  text: string;
  books: { id: number; title: string; authors: string }[];
  reader: HeldOutReader;
  wav: string;
  levels: WavLevels;
  speaker: string;
  quality?: Quality;
}

/** The answer block: the sentence, the ranked titles marked by whether the reader went on to read them. */
export function answerLines(a: AnswerView): string[] {
  const targets = new Set(a.reader.targets.map((b) => b.id));
  const hits = a.books.filter((b) => targets.has(b.id));
  const width = String(a.books.length).length;
  return [
    '',
    `${a.deviceId} said:`,
    ...wrap(`"${a.text}"`, 96).map((l) => `    ${l}`),
    '',
    `Ranked (* = reader ${a.reader.userId} really went on to read it, one of the ${a.reader.targets.length} books held back):`,
    ...a.books.map(
      (b, i) =>
        `  ${targets.has(b.id) ? '*' : ' '} ${String(i + 1).padStart(width)}. ${b.title}${b.authors ? ` - ${b.authors}` : ''}`,
    ),
    hits.length > 0
      ? `${hits.length} of ${a.books.length} recommended books are among the ${a.reader.targets.length} this reader read next.`
      : `None of the ${a.books.length} is among the ${a.reader.targets.length} books this reader read next.` +
        (a.quality?.hitRate10 === undefined
          ? ''
          : ` (Over all ${a.quality.testReaders} held-out readers, the student's top 10 holds at least one for ${(100 * a.quality.hitRate10).toFixed(0)}%.)`),
    `Held back from the model (what the reader read next): ${someTitles(a.reader.targets, 6)}`,
    '',
    `Speech: ${shown(a.wav)} (${a.levels.seconds.toFixed(1)} s, peak ${a.levels.peak.toFixed(2)}, RMS ${a.levels.rms.toFixed(3)}: real sound); ${a.speaker}.`,
  ];
}

/** A few titles of a list, for one line. */
export function someTitles(books: readonly BookEntry[], n = 3): string {
  const names = books.slice(0, n).map((b) => `"${b.title}"`);
  return books.length > n ? `${names.join(', ')}, ...` : names.join(', ');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
