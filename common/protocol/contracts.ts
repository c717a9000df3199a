import { commandContract, replyContract } from './commands.js';
import { countersContract } from './counters.js';
import { hermesEndSessionContract, hermesIntentContract, hermesSayContract } from './hermes.js';
import { manifestContract } from './manifest.js';
import { modeContract } from './mode.js';
import { recommendationContract } from './recommendation.js';
import { signalContract } from './signals.js';
import { eventContract, reportContract, statusContract } from './status.js';

/**
 * Every JSON payload that crosses MQTT, in one list: `npm run schemas` writes each one's JSON Schema to
 * docs/schemas/<name>.schema.json, and a test validates every example in docs/ against them. Chunks are
 * raw bytes with no header (their address is the topic, see topics.ts), so they have no schema here.
 */
export const WIRE_CONTRACTS = [
  manifestContract,
  statusContract,
  reportContract,
  eventContract,
  countersContract,
  signalContract,
  commandContract,
  replyContract,
  modeContract,
  recommendationContract,
  hermesIntentContract,
  hermesSayContract,
  hermesEndSessionContract,
] as const;
