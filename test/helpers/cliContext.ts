import type { CommandContext } from '../../cli/command.js';
import { createMemoryLogger } from '../../common/log.js';

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
    signal: new AbortController().signal,
  };
  return { ctx, out, err, log };
}
