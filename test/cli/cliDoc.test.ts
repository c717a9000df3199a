import { readFile } from 'node:fs/promises';
import t from 'tap';
import { CLI_DOC, cliDoc } from '../../cli/cliDoc.js';
import { COMMANDS } from '../../cli/commands.js';
import { settingsOf } from '../../common/flags.js';

t.test('docs/cli.md is what the commands declare (npm run cli-doc)', async (t) => {
  const committed = await readFile(CLI_DOC, 'utf8').catch(() => '(missing)');
  const generated = await cliDoc();
  t.equal(committed, generated, 'run npm run cli-doc');
  for (const entry of COMMANDS) {
    const { default: command } = await entry.load();
    t.match(generated, `## bookrec ${command.path.join(' ')}\n`);
    for (const s of settingsOf(command.schema)) if (s.flag) t.match(generated, `| \`${s.key}\` |`);
  }
});
