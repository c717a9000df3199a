import { readFile } from 'node:fs/promises';
import t from 'tap';
import { agentConfig } from '../../agent/config.js';

/**
 * The Debian package's /etc/bookrec/agent.json (packaging/deb/agent.json): the agent reads it, comments
 * and all, and every value in it is the schema's default, so the file a person edits never says one
 * thing while the agent does another.
 */
const FILE = 'packaging/deb/agent.json';

t.test('the shipped agent.json is read by --config and holds the defaults', async (t) => {
  const fromFile = agentConfig({ env: {}, argv: ['--config', FILE] });
  t.same(fromFile, agentConfig({ env: {} }), 'every value is the default');
  const text = await readFile(FILE, 'utf8');
  t.match(text, /^\/\/ /m, 'it has comments');
  for (const key of [
    'deviceId',
    'url',
    'password',
    'trustedKeys',
    'recommendPin',
    'activeLow',
    'device',
    'enabled',
  ])
    t.match(text, new RegExp(`"${key}":`), `${key} is there to edit`);
});

t.test('issue 21 item 15c: a homeassistant block, off, its settings explained', async (t) => {
  const text = await readFile(FILE, 'utf8');
  const block =
    /\n((?: {2}\/\/.*\n)+) {2}"homeassistant": \{\n {4}"enabled": false,\n {4}"prefix": "homeassistant"\n {2}\}/.exec(
      text,
    );
  t.ok(block, 'the block, disabled, with the default prefix');
  t.match(block?.[1], /homeassistant\/device\/<deviceId>\/config/, 'its comment says what it announces');
  t.match(block?.[1], /no "\."/, 'and what device ids it needs');
  const on = agentConfig({ env: {}, argv: ['--config', FILE, '--homeassistant'] });
  t.same(on.homeassistant, { enabled: true, prefix: 'homeassistant' }, 'turned on from the command line');
});
