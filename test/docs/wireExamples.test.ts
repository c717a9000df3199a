import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import t from 'tap';
import { WIRE_CONTRACTS } from '../../common/protocol/contracts.js';
import { SCHEMA_DIR, schemaFiles } from '../../scripts/writeSchemas.js';

/**
 * The wire contract's published faces agree with the code: docs/schemas/ is what `npm run schemas`
 * generates now, and every JSON example in the protocol and agent docs names its payload
 * (```json <name>) and is valid by the contract and, through an independent validator (ajv), by the
 * published schema.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = join(ROOT, 'docs');
const PAYLOAD_DOCS = ['protocol.md', 'agent.md'];
const FENCE = /^```json(?:[ \t]+([\w-]+))?[ \t]*\n([\s\S]*?)^```/gm;

interface Example {
  file: string;
  line: number;
  name: string | undefined;
  text: string;
}

async function examples(file: string): Promise<Example[]> {
  const text = await readFile(join(DOCS, file), 'utf8');
  return [...text.matchAll(FENCE)].map((m) => ({
    file,
    line: text.slice(0, m.index).split('\n').length,
    name: m[1],
    text: m[2],
  }));
}

t.test('docs/schemas holds exactly what the contracts generate', async (t) => {
  for (const [name, text] of schemaFiles()) {
    const committed = await readFile(join(ROOT, SCHEMA_DIR, name), 'utf8').catch(() => 'null');
    // Compared as JSON: `npm run format` (Biome) lays the committed files out its own way.
    t.same(JSON.parse(committed), JSON.parse(text), `${name} is up to date (npm run schemas)`);
  }
});

t.test('every example payload in the docs is tagged and valid', async (t) => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const contracts = new Map(WIRE_CONTRACTS.map((c) => [c.name, c]));
  const seen = new Set<string>();
  for (const file of PAYLOAD_DOCS) {
    for (const ex of await examples(file)) {
      const where = `${ex.file}:${ex.line}`;
      const contract = ex.name === undefined ? undefined : contracts.get(ex.name);
      if (!contract) {
        t.fail(`${where}: a json example must name its payload (one of ${[...contracts.keys()].join(', ')})`);
        continue;
      }
      seen.add(contract.name);
      let value: unknown;
      try {
        value = JSON.parse(ex.text);
      } catch (err) {
        t.fail(`${where}: not JSON (${(err as Error).message})`);
        continue;
      }
      t.same(contract.problems(value), [], `${where} is a valid ${contract.name}`);
      const schema = JSON.parse(
        await readFile(join(ROOT, SCHEMA_DIR, `${contract.name}.schema.json`), 'utf8'),
      );
      const validate = ajv.compile(schema);
      t.ok(validate(value), `${where} passes docs/schemas/${contract.name}.schema.json (ajv)`);
    }
  }
  t.same(
    [...contracts.keys()].filter((name) => !seen.has(name)),
    [],
    'every payload has at least one example in the docs',
  );
});

t.test('the published schemas refuse what the contracts refuse', async (t) => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const schema = JSON.parse(await readFile(join(ROOT, SCHEMA_DIR, 'command.schema.json'), 'utf8'));
  const validate = ajv.compile(schema);
  t.notOk(validate({ id: 'x', command: 'dance' }), 'an unknown command');
  t.notOk(validate({ command: 'recommend' }), 'no id');
  t.notOk(validate({ id: 'x', command: 'status', extra: 1 }), 'an unknown field');
  t.ok(validate({ id: 'x', command: 'status' }));
});
