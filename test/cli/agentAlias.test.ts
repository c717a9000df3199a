import { readFileSync } from 'node:fs';
import t from 'tap';
import { main } from '../../cli/bookrec.js';
import { testContext } from '../helpers/cliContext.js';

/**
 * `bookrec-agent` (the Debian package's command, cli/bookrecAgent.ts) is `bookrec agent` under its own
 * name: --version works, and help, usage errors and failures say `bookrec-agent`, never `bookrec agent`
 * (a command the device does not have).
 */
const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

async function bookrecAgent(args: string[]) {
  const c = testContext({});
  const code = await main(args, c.ctx, { alias: { name: 'bookrec-agent', path: ['agent'] } });
  return { code, out: c.out.join('\n'), err: c.err.join('\n') };
}

t.test('--version and -V print bookrec-agent and the version', async (t) => {
  for (const flag of ['--version', '-V']) {
    const r = await bookrecAgent([flag]);
    t.equal(r.code, 0, flag);
    t.equal(r.out, `bookrec-agent ${version}`);
  }
});

t.test('--help: usage, examples and --version under the program name', async (t) => {
  const r = await bookrecAgent(['--help']);
  t.equal(r.code, 0);
  t.match(r.out, /^usage: bookrec-agent \[options\]\n/);
  t.match(r.out, /^ {2}-V, --version +print the version$/m);
  t.match(r.out, /^ {2}bookrec-agent --check-config --config \/etc\/bookrec\/agent\.json$/m);
  t.notMatch(r.out, /bookrec agent/, 'no "bookrec agent" anywhere');
});

t.test('usage errors and failures are prefixed bookrec-agent', async (t) => {
  const typo = await bookrecAgent(['--chek-config']);
  t.equal(typo.code, 2);
  t.match(typo.err, /^bookrec-agent: .*\[USAGE\]\nusage: bookrec-agent \[options\]; bookrec-agent --help/);
  const bad = await bookrecAgent(['--check-config', '--trusted-keys', '']);
  t.equal(bad.code, 1);
  t.match(bad.err, /^bookrec-agent: .*no trusted release keys/);
  t.notMatch(`${typo.err}${bad.err}`, /bookrec agent/);
});
