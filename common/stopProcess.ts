import type { ChildProcess } from 'node:child_process';

/**
 * Stops a child process as systemd would: SIGTERM, then SIGKILL if it is still there after `graceMs`.
 * Resolves once it has exited; at once when it had already.
 */
export async function stopProcess(proc: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((done) => proc.once('exit', () => done()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
