import type { ProgressFactory } from '../common/progress.js';

/**
 * A progress factory whose updates throw once `signal` is aborted (SIGINT/SIGTERM): the trainer's long
 * loops (per-book solves, passes over users) report progress often but are plain synchronous JS, so
 * their progress updates are where they can stop, instead of running on after the run was told to end.
 */
export function abortableProgress(progress: ProgressFactory, signal: AbortSignal): ProgressFactory {
  return (label, total) => {
    const inner = progress(label, total);
    return {
      update(done) {
        signal.throwIfAborted();
        inner.update(done);
      },
      finish: () => inner.finish(),
    };
  };
}
