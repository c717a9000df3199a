import type { Command } from '../common/command.js';

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
    path: ['train'],
    summary: 'train teacher and students, evaluate them, export the student package and a report',
    load: () => import('../trainer/commands/train.js'),
  },
  {
    path: ['grid'],
    summary: 'grid search over the distillation weight a and temperature T, with seeds',
    load: () => import('../trainer/commands/grid.js'),
  },
  {
    path: ['data', 'fetch'],
    summary: 'download the goodbooks-10k data set, or import a local copy with --from DIR',
    load: () => import('../trainer/commands/dataFetch.js'),
  },
  {
    path: ['keys'],
    summary: 'make the Ed25519 key pair that signs releases',
    load: () => import('../deploy/commands/keys.js'),
  },
  {
    path: ['publish'],
    summary: 'sign a model package and publish it to a channel over MQTT',
    load: () => import('../deploy/commands/publish.js'),
  },
  {
    path: ['rollout'],
    summary: 'widen the rollout of a channel release, with an optional abort rule and quality gate',
    load: () => import('../deploy/commands/rollout.js'),
  },
  {
    path: ['rollback'],
    summary: 'return a channel to its previous release (signed rollback manifest)',
    load: () => import('../deploy/commands/rollback.js'),
  },
  {
    path: ['fleet'],
    summary:
      'devices: last seen, channel, model, rollout, install, acceptance; quality per version (--watch, --json)',
    load: () => import('../deploy/commands/fleet.js'),
  },
  {
    path: ['fleet', 'forget'],
    summary: 'clear a device that is gone: its retained status, counters, mode and Home Assistant configs',
    load: () => import('../deploy/commands/fleetForget.js'),
  },
  {
    path: ['ask'],
    summary: 'send a device a command (recommend, status, quiet-on, quiet-off) and print its reply',
    load: () => import('../deploy/commands/ask.js'),
  },
  {
    path: ['agent'],
    summary: 'run the speaker agent (systemd service); --check-config validates the settings and exits',
    load: () => import('../agent/command.js'),
  },
  {
    path: ['serve'],
    summary: 'the student as an HTTP service, the reader’s phone page, and (--fleet) a live fleet dashboard',
    load: () => import('../serve/command.js'),
  },
  {
    path: ['demo'],
    summary: 'the product end to end: broker, training, keys, publish, speaker agents, a spoken answer',
    load: () => import('../demo/command.js'),
  },
  {
    path: ['simulate'],
    summary: 'fleet simulator: N agents play held-out readers through quality-gated rollouts',
    load: () => import('../sim/command.js'),
  },
  {
    path: ['broker'],
    summary: 'run the embedded MQTT 3.1.1 broker (aedes) for demos',
    load: () => import('../deploy/commands/broker.js'),
  },
];
