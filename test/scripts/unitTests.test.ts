import t from 'tap';
import { notUnitBecause, unitTestFiles } from '../../scripts/unitTests.js';

t.test(
  'a test file is sorted by what it reaches: a broker, a browser, data, training, programs',
  async (t) => {
    t.equal(
      notUnitBecause('test/common/x.test.ts', "import { topK } from '../../trainer/topK.js';"),
      undefined,
    );
    t.equal(
      notUnitBecause('test/agent/x.test.ts', "import { mosquitto } from '../helpers/mosquitto.js';"),
      'a real mosquitto',
    );
    t.equal(
      notUnitBecause('test/serve/x.test.ts', "import { openBrowser } from '../helpers/browser.js';"),
      'Chromium',
    );
    t.equal(
      notUnitBecause('test/x.test.ts', "import { execFile } from 'node:child_process';"),
      'other programs',
    );
    t.equal(notUnitBecause('test/arm/x.test.ts', ''), 'in test/arm');
    t.equal(notUnitBecause('test/agent/speech/x.test.ts', ''), 'speech engines');
  },
);

t.test('the real suite: the unit set is a real part of it, and holds no integration test', async (t) => {
  const files = unitTestFiles('test');
  t.ok(files.length >= 40, `${files.length} unit test files`);
  t.ok(files.includes('test/trainer/eval/metrics.test.ts'), 'pure logic is in');
  t.notOk(files.includes('test/deploy/delivery.test.ts'), 'the mosquitto delivery test is out');
  t.notOk(files.includes('test/serve/phonePage.test.ts'), 'the Chromium test is out');
  t.notOk(
    files.some((f) => f.startsWith('test/arm/') || f.startsWith('test/bench/')),
    'no emulator or soak',
  );
});
