import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { agentConfig, trustedKeyList } from '../../agent/config.js';
import { parseSignalText } from '../../common/protocol/signals.js';
import { parsePublicKey } from '../../common/protocol/signing.js';
import { loadCatalogue } from '../../trainer/data/books.js';
import { realDataDir } from '../helpers/realData.js';

/**
 * The docs' examples, run (issue 21: a signal for a Goodreads id the agent ignores, trustedKeys in a form
 * the agent refuses). A fenced block right after `<!-- example: KIND -->` is checked by the code that
 * reads it on a device:
 * - `agent-config`: agent.json, or a part of it (`"key": ...` lines, a trailing comma allowed), read by
 *   the agent's own config loader (strict schema: a misspelt key fails), each trusted key by the agent's
 *   key parser;
 * - `signal`: each line parsed by the agent's signal parser, its book in the goodbooks catalogue.
 * And no example escapes: every ```json block of raspberry-pi.md and every ```json signal block is
 * marked.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = join(ROOT, 'docs');
const MARKED = /<!-- example: ([\w-]+) -->\n+```[^\n]*\n([\s\S]*?)^```/gm;
const KINDS = ['agent-config', 'signal'] as const;
type Kind = (typeof KINDS)[number];

interface Example {
  where: string;
  kind: string;
  text: string;
}

async function docs(): Promise<{ file: string; text: string }[]> {
  const files = (await readdir(DOCS)).filter((f) => f.endsWith('.md')).sort();
  return Promise.all(files.map(async (file) => ({ file, text: await readFile(join(DOCS, file), 'utf8') })));
}

function examplesIn(file: string, text: string): Example[] {
  return [...text.matchAll(MARKED)].map((m) => ({
    where: `docs/${file}:${text.slice(0, m.index).split('\n').length}`,
    kind: m[1],
    text: m[2],
  }));
}

/** A part of agent.json as a whole file: the lines inside its outer braces. */
function asConfigFile(text: string): string {
  const body = text.trim();
  return body.startsWith('{') ? body : `{\n${body.replace(/,\s*$/, '')}\n}\n`;
}

const all = (await docs()).flatMap(({ file, text }) => examplesIn(file, text));
const byKind = (kind: Kind) => all.filter((e) => e.kind === kind);

t.test('every marked example is of a kind this test checks', async (t) => {
  t.same(
    all.filter((e) => !(KINDS as readonly string[]).includes(e.kind)).map((e) => `${e.where}: ${e.kind}`),
    [],
  );
  t.ok(byKind('agent-config').length >= 5, 'the Raspberry Pi guide has its config examples marked');
  t.ok(byKind('signal').length >= 1, 'the agent page has its signal example marked');
});

t.test('no example escapes: json blocks of the Pi guide and every signal block are marked', async (t) => {
  for (const { file, text } of await docs()) {
    const fences = [...text.matchAll(/^```json( signal)?[ \t]*$/gm)].filter(
      (m) => file === 'raspberry-pi.md' || m[1] !== undefined,
    );
    for (const m of fences) {
      const before = text.slice(0, m.index).trimEnd();
      const line = text.slice(0, m.index).split('\n').length;
      t.match(before, /<!-- example: [\w-]+ -->$/, `docs/${file}:${line} is marked as an example`);
    }
  }
});

t.test('agent-config examples: the agent reads them, keys and all', async (t) => {
  const dir = t.testdir({});
  for (const [i, example] of byKind('agent-config').entries()) {
    const file = join(dir, `example-${i}.json`);
    await writeFile(file, asConfigFile(example.text));
    let keys: string[] = [];
    try {
      keys = trustedKeyList(agentConfig({ env: {}, file }));
      t.pass(`${example.where}: the agent's config loader accepts it`);
    } catch (err) {
      t.fail(`${example.where}: ${(err as Error).message}`);
    }
    for (const key of keys) {
      t.doesNotThrow(
        () => parsePublicKey(key),
        `${example.where}: trusted key ${key.slice(0, 12)}... parses`,
      );
    }
  }
  t.ok(
    byKind('agent-config').some((e) => /"trustedKeys"/.test(e.text)),
    'a trustedKeys example is among them',
  );
});

t.test('the key form the docs used to show (DER/SPKI) is the one the agent refuses', async (t) => {
  t.throws(() => parsePublicKey('MCowBQYDK2VwAyEAXfokBVl6K4FstUvk+SkF5EBwUyUL87E79OHBrHJWR3s='), {
    code: 'KEY_INVALID',
  });
});

t.test('signal examples: parsed by the agent, each book in the goodbooks catalogue', async (t) => {
  const data = realDataDir(t);
  if (!data) return;
  const { byId } = await loadCatalogue(join(data, 'books.csv'));
  for (const example of byKind('signal')) {
    for (const line of example.text.split('\n').filter((l) => l.trim() !== '')) {
      const parsed = parseSignalText(line, Date.now());
      if (!parsed.ok) {
        t.fail(`${example.where}: the agent refuses it: ${parsed.reason}`);
        continue;
      }
      t.ok(
        byId.has(parsed.signal.bookId),
        `${example.where}: book ${parsed.signal.bookId} is in books.csv (goodbooks book_id, not a Goodreads id)`,
      );
    }
  }
});
