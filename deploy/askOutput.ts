import { escapeControls } from '../common/logText.js';
import { recommendationContract } from '../common/protocol/recommendation.js';
import { reportContract } from '../common/protocol/status.js';
import { ago } from './fleetTable.js';

/**
 * A device's reply to `bookrec ask` as a person at a terminal reads it: the sentence and the list of
 * books for `recommend`, one line each for `status` and `quiet`. Scripts get the JSON (`--json`, or
 * stdout not a terminal). The text comes from a device, so its control characters are spelled out
 * rather than sent to the terminal. A reply of a shape this version does not know is shown as JSON.
 */
export function replyForPeople(deviceId: string, word: string, data: unknown, now = new Date()): string {
  const text = replyText(deviceId, word, data, now);
  if (text !== undefined) return text;
  // The JSON's own line breaks stay; anything a string holds is already escaped by JSON, but C1 and U+2028.
  return JSON.stringify(data, null, 2).split('\n').map(escapeControls).join('\n');
}

function replyText(deviceId: string, word: string, data: unknown, now: Date): string | undefined {
  const say = escapeControls;
  if (word === 'recommend' && recommendationContract.is(data)) {
    const from =
      data.source === 'model' ? `model v${data.modelVersion}` : `fallback list (model v${data.modelVersion})`;
    return [
      say(data.text),
      '',
      ...data.books.map(
        (b, i) => `${String(i + 1).padStart(2)}. ${say(b.title)}${b.authors ? `, ${say(b.authors)}` : ''}`,
      ),
      '',
      `${say(data.deviceId)}, ${from}: ${say(data.reason)}`,
    ].join('\n');
  }
  if (word === 'status' && reportContract.is(data)) {
    const model = data.model
      ? `${data.model.channel}/${data.model.model}@${data.model.version}`
      : 'no model yet';
    const last = data.lastUpdate;
    const update = last
      ? `last update v${last.version} ${last.result}${last.code ? ` (${last.code})` : ''} ${ago(last.at, now)}`
      : 'no update yet';
    return say(
      `${data.deviceId}: ${data.state}, ${model}, agent ${data.agentVersion}, ${update}, up ${uptime(data.uptimeSeconds)}`,
    );
  }
  if (word.startsWith('quiet-') && isQuiet(data)) {
    return `${say(deviceId)}: quiet mode ${data.quiet ? 'on' : 'off'}`;
  }
  return undefined;
}

function isQuiet(data: unknown): data is { quiet: boolean } {
  return (
    typeof data === 'object' && data !== null && typeof (data as { quiet?: unknown }).quiet === 'boolean'
  );
}

/** 42 s, 17 min, 5 h, 3 d. */
function uptime(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}
