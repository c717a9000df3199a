import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { parseJsonBytes } from '../common/protocol/contract.js';
import {
  HERMES_TOPICS,
  type HermesEndSession,
  type HermesSay,
  hermesIntentContract,
} from '../common/protocol/hermes.js';
import type { MessageTransport } from '../common/protocol/transport.js';
import type { Outbox } from './outbox.js';
import type { Responder } from './responder.js';

/**
 * Rhasspy / Hermes interop: an intent `hermes/intent/<name>` (default RecommendBook) asks for a
 * recommendation; the answer goes to `hermes/tts/say` with the intent's siteId and sessionId, so the
 * voice stack speaks it on the satellite that heard the question. The local speaker stays silent for
 * these (the satellite talks). In quiet hours there is no spoken answer: the session is ended with
 * `hermes/dialogueManager/endSession` instead, so the voice stack does not wait for one. Topics are the
 * Hermes convention's own, outside the bookrec prefix; the broker must let the device use them.
 */
export interface HermesContext {
  transport: MessageTransport;
  outbox: Outbox;
  responder: Responder;
  intent: string;
  lang: string;
  /** The sites (siteId) this speaker answers for; '*': all (a base station serving satellites). */
  sites: readonly string[] | '*';
  log: Logger;
  maxBytes?: number;
}

/** Longest text sent to a voice stack: three titles with authors fit with room to spare. */
export const HERMES_MAX_CHARS = 600;

/**
 * Text a voice stack may speak: no control or invisible formatting characters (bidi overrides,
 * zero-width), no markup (a title holding "<speak>" or SSML tags must not steer the TTS), `&` spelled
 * out, spaces collapsed, and at most HERMES_MAX_CHARS, cut at a word.
 */
export function hermesText(text: string): string {
  const plain = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/[<>]/g, ' ')
    .replace(/&/g, ' and ')
    .replace(/[\p{Cc}\p{Cf}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (plain.length <= HERMES_MAX_CHARS) return plain;
  const cut = plain.slice(0, HERMES_MAX_CHARS - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > HERMES_MAX_CHARS / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

export class HermesBridge {
  private readonly ctx: HermesContext;
  private remove: (() => void) | undefined;

  constructor(ctx: HermesContext) {
    this.ctx = ctx;
  }

  get intentTopic(): string {
    return HERMES_TOPICS.intent(this.ctx.intent);
  }

  async start(): Promise<void> {
    this.remove = this.ctx.transport.onMessage((topic, payload) => {
      if (topic !== this.intentTopic) return;
      this.onIntent(payload).catch((err: unknown) =>
        this.ctx.log.error('hermes intent failed', { error: errorMessage(err) }),
      );
    });
    await this.ctx.transport.subscribe([this.intentTopic]);
  }

  async stop(): Promise<void> {
    this.remove?.();
    this.remove = undefined;
  }

  private async onIntent(payload: Buffer): Promise<void> {
    if (payload.length > (this.ctx.maxBytes ?? 64 * 1024)) return;
    const json = parseJsonBytes(payload);
    if (!json.ok) {
      this.ctx.log.warn('hermes intent is not JSON: ignored');
      return;
    }
    const msg = json.value;
    if (!hermesIntentContract.is(msg)) {
      this.ctx.log.warn('hermes intent malformed: ignored', { problems: hermesIntentContract.problems(msg) });
      return;
    }
    const siteId = msg.siteId ?? 'default';
    // A speaker answers for its own site only: it never speaks through another room's satellite (the
    // broker's ACL cannot tell sites apart, as the siteId is inside the payload).
    if (this.ctx.sites !== '*' && !this.ctx.sites.includes(siteId)) {
      this.ctx.log.debug('hermes intent for another site: ignored', { siteId });
      return;
    }
    const sessionId = msg.sessionId;
    const result = await this.ctx.responder.trigger('hermes', { speak: false });
    const text = result ? result.message.text : 'I have no book list yet. Please try again later.';
    if (result?.quiet) {
      const end: HermesEndSession | undefined = sessionId ? { sessionId } : undefined;
      if (end) await this.send(HERMES_TOPICS.endSession, end);
      return;
    }
    const say: HermesSay = { text: hermesText(text), siteId };
    if (sessionId) say.sessionId = sessionId;
    if (this.ctx.lang) say.lang = this.ctx.lang;
    await this.send(HERMES_TOPICS.say, say);
  }

  private send(topic: string, body: object): Promise<void> {
    return this.ctx.outbox.send({
      topic,
      payload: JSON.stringify(body),
      options: { retain: false, json: true },
    });
  }
}
