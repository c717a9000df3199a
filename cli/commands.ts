import type { Command } from './command.js';

/**
 * The subcommands of `bookrec`, loaded lazily: `bookrec agent` on a speaker never imports trainer code.
 * Each module default-exports its Command.
 */
export interface CommandEntry {
  path: string[];
  summary: string;
  load: () => Promise<{ default: Command }>;
}

export const COMMANDS: CommandEntry[] = [
  {
    path: ['evaluate'],
    summary: 'evaluate baselines on held-out users and write a results JSON',
    load: () => import('../trainer/commands/evaluate.js'),
  },
  {
    path: ['data', 'fetch'],
    summary: 'download the goodbooks-10k data set, or import a local copy with --from DIR',
    load: () => import('../trainer/commands/dataFetch.js'),
  },
];
