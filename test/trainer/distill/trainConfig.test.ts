import { join } from 'node:path';
import t from 'tap';
import { trainConfig } from '../../../trainer/distill/trainConfig.js';

t.test('the cache lives under --out unless --cache names one to share', async (t) => {
  t.equal(trainConfig({ argv: ['--out', '/srv/runs/a'] }).cache, join('/srv/runs/a', 'cache'));
  t.equal(trainConfig({}).cache, join('out/train', 'cache'), 'the default output folder');
  t.equal(
    trainConfig({ argv: ['--out', '/srv/runs/a', '--cache', '/srv/shared-cache'] }).cache,
    '/srv/shared-cache',
    'an explicit cache is kept',
  );
});
