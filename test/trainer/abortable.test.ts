import t from 'tap';
import type { ProgressFactory } from '../../common/progress.js';
import { abortableProgress } from '../../trainer/abortable.js';

t.test('progress updates pass through until the signal aborts, then throw its reason', async (t) => {
  const seen: number[] = [];
  const inner: ProgressFactory = () => ({ update: (d) => seen.push(d), finish: () => seen.push(-1) });
  const controller = new AbortController();
  const bar = abortableProgress(inner, controller.signal)('work', 10);
  bar.update(1);
  controller.abort(new Error('stopped by SIGTERM'));
  t.throws(() => bar.update(2), { message: 'stopped by SIGTERM' });
  bar.finish();
  t.same(seen, [1, -1]);
});
