import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * A fresh folder for a test whose services (an agent, a broker) write into it, removed by a teardown
 * registered now: tap runs teardowns last-in first-out, so the folder goes after the services that were
 * started later have stopped.
 *
 * Not t.testdir(): tap deletes a testdir before the test's teardowns when testdir() was called before
 * the first t.teardown(), i.e. while the agent is still running and writing there. A file created during
 * the deletion fails it (ENOTEMPTY), and a failed deletion skips every teardown, leaving the broker, the
 * clients and the agent running until the file times out.
 */
export async function serviceDir(t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bookrec-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
