import { errorMessage } from '../common/errors.js';
import { rank, withoutHistory } from '../common/inference/ranking.js';
import { sentenceFor } from '../common/inference/sentence.js';
import type { Logger } from '../common/log.js';
import {
  RECOMMENDATION_SCHEMA,
  type RecommendationMessage,
  type TriggerSource,
} from '../common/protocol/recommendation.js';
import type { TopicMap } from '../common/protocol/topics.js';
import type { AgentConfig } from './config.js';
import type { HistoryStore } from './history.js';
import type { ActiveModel } from './modelStore.js';
import type { Outbox } from './outbox.js';
import { isQuietTime } from './quietHours.js';
import type { SpeechResult, Tts } from './speech/tts.js';

/**
 * What a trigger (button, MQTT command, voice intent) does: rank with the model in use, build the
 * sentence, publish the JSON on devices/<id>/recommendations and speak it, as output.mode says and
 * quiet hours allow. Speech is one at a time: a trigger while speaking ranks and publishes, and its
 * speech waits in a single slot (a newer one replaces it), so button mashing cannot queue minutes of
 * talk.
 */
export interface ResponderContext {
  model: () => ActiveModel | undefined;
  history: HistoryStore;
  tts: Tts | undefined;
  outbox: Outbox;
  topics: TopicMap;
  deviceId: string;
  output: AgentConfig['output'];
  quietHours: AgentConfig['quietHours'];
  /** Quiet mode (the quiet command): no speech whatever the hour. */
  quietMode?: () => boolean;
  log: Logger;
  now?: () => Date;
  /** Told of every answer given by a model (quality counters): its release and the books named. */
  onAnswer?: (release: { channel: string; version: number }, books: number[], at: number) => void;
}

export interface TriggerResult {
  message: RecommendationMessage;
  quiet: boolean;
  /** Ranking time (history -> ranked list), ms. */
  rankMs: number;
  /** Resolves when this trigger's speech ended, was replaced or was not wanted. */
  speech: Promise<SpeechResult | undefined>;
}

export class Responder {
  private readonly ctx: ResponderContext;
  private speaking: Promise<void> | undefined;
  private pending: { text: string; done: (r: SpeechResult | undefined) => void } | undefined;
  /** The last recommendation, which like/skip buttons refer to. */
  last: RecommendationMessage | undefined;

  constructor(ctx: ResponderContext) {
    this.ctx = ctx;
  }

  /** Ranks and answers; undefined when no model is installed yet (said aloud when speech is on). */
  async trigger(
    trigger: TriggerSource,
    options: { speak?: boolean } = {},
  ): Promise<TriggerResult | undefined> {
    const now = (this.ctx.now ?? (() => new Date()))();
    const quiet =
      this.ctx.quietMode?.() === true || isQuietTime(now, this.ctx.quietHours.start, this.ctx.quietHours.end);
    const model = this.ctx.model();
    const mode = this.ctx.output.mode;
    const wantSpeech = options.speak !== false && mode !== 'publish' && !quiet && this.ctx.tts !== undefined;
    if (!model) {
      this.ctx.log.warn('recommendation asked for, but no model is installed yet', { trigger });
      if (wantSpeech) await this.say('I have no book list yet. Please try again later.');
      return undefined;
    }
    const started = performance.now();
    const rec = rank(model, this.ctx.history.entries(), { count: this.ctx.output.count, now });
    const rankMs = performance.now() - started;
    // The history never leaves the device unless its owner says so (output.shareHistory): what is
    // published, replied and sent to a voice stack names no history book; the local speaker may.
    const shared = this.ctx.output.shareHistory ? rec : withoutHistory(rec);
    const message: RecommendationMessage = {
      schema: RECOMMENDATION_SCHEMA,
      deviceId: this.ctx.deviceId,
      trigger,
      books: rec.books,
      reason: shared.reason,
      basedOn: shared.basedOn,
      source: rec.source,
      modelVersion: model.release.version,
      text: sentenceFor(shared),
      at: now.toISOString(),
    };
    this.last = message;
    this.ctx.onAnswer?.(
      model.release,
      rec.books.map((b) => b.id),
      now.getTime(),
    );
    this.ctx.log.info('recommendation', {
      trigger,
      books: rec.books.map((b) => b.id),
      source: rec.source,
      rankMs,
      quiet,
    });
    if (mode !== 'speak') {
      await this.ctx.outbox.send({
        topic: this.ctx.topics.device(this.ctx.deviceId, 'recommendations'),
        payload: JSON.stringify(message),
        // Retained: Home Assistant's "last recommendation" is there again after its restart.
        options: { retain: true, json: true },
      });
    }
    const speech = wantSpeech ? this.say(sentenceFor(rec)) : Promise.resolve(undefined);
    return { message, quiet, rankMs, speech };
  }

  /** Waits for speech in progress (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.speaking) await this.speaking;
  }

  private say(text: string): Promise<SpeechResult | undefined> {
    return new Promise((resolve) => {
      if (this.pending) this.pending.done(undefined);
      this.pending = { text, done: resolve };
      this.speaking ??= this.speakLoop();
    });
  }

  private async speakLoop(): Promise<void> {
    try {
      while (this.pending) {
        const { text, done } = this.pending;
        this.pending = undefined;
        try {
          done(await this.ctx.tts!.speak(text));
        } catch (err) {
          // No sound is a degraded speaker, not a dead one: the JSON was published all the same.
          this.ctx.log.error('speech failed', { error: errorMessage(err) });
          done(undefined);
        }
      }
    } finally {
      // Cleared in the same step that saw the slot empty: a .finally() on the promise would run a
      // tick later, and a trigger landing in between would leave its speech waiting forever.
      this.speaking = undefined;
    }
  }
}
