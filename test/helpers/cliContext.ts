import type { CommandContext } from '../../common/command.js';
import { createMemoryLogger } from '../../common/log.js';
import { logProgress } from '../../common/progress.js';

/** A CommandContext that collects what a command prints, for running `main()` in-process. */
export function testContext(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const log = createMemoryLogger('debug');
  const ctx: CommandContext = {
    env,
    log,
    print: (text) => out.push(text),
    printError: (text) => err.push(text),
    interactive: false,
    progress: logProgress({ log }),
    signal: new AbortController().signal,
  };
  return { ctx, out, err, log };
}
