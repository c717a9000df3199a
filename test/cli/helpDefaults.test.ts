import t from 'tap';
import { main } from '../../cli/bookrec.js';
import { testContext } from '../helpers/cliContext.js';

/**
 * What help says a flag defaults to (issue 21, item 13): a secret says `[secret]`, a required flag
 * `[required]` and not its placeholder default, and a flag shows only on the commands that use it.
 */
async function help(command: string[]): Promise<string> {
  const c = testContext();
  t.equal(await main([...command, '--help'], c.ctx), 0);
  return c.out.join('\n');
}

t.test('a secret shows as [secret], a required flag as [required]', async (t) => {
  const rollout = await help(['rollout']);
  t.match(rollout, /--password PASSWORD .*\[secret, \$BOOKREC_MQTT_PASSWORD\]/);
  t.notMatch(rollout, /default \(secret\)/);
  t.match(rollout, /--percent N +Share of the channel devices that install the release \[required\]$/m);
  t.notMatch(rollout, /--percent N .*default/, 'no placeholder default');
  t.match(rollout, /--gate-margin N .*\[default -1\]/, 'a -1 that means something still shows');
});

t.test(
  "the broker's autosave flag shows on the commands that publish a release, not on read-only ones",
  async (t) => {
    for (const command of [['publish'], ['rollout'], ['rollback']]) {
      t.match(await help(command), /--autosave-changes N/, command.join(' '));
    }
    for (const command of [['fleet'], ['fleet', 'forget'], ['ask']]) {
      const text = await help(command);
      t.notMatch(text, /--autosave-changes/, command.join(' '));
      t.match(text, /--quiet-ms N/, `${command.join(' ')} still has the connection's other flags`);
    }
  },
);
