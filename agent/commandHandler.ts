import { errorMessage, isBookrecError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import {
  type Command,
  type CommandName,
  okReplyFor,
  parseCommand,
  type Reply,
} from '../common/protocol/commands.js';
import type { MessageTransport } from '../common/protocol/transport.js';
import type { Outbox } from './outbox.js';

/**
 * devices/<id>/commands in, devices/<id>/replies out: every command gets exactly one reply with its id
 * (common/protocol/commands.ts), so whoever asked (`bookrec ask`, Home Assistant, a script) hears back,
 * also about a command that was malformed, unknown, failed, or arrived while too many were running.
 */
export interface CommandHandlerContext {
  transport: () => MessageTransport;
  commandsTopic: string;
  repliesTopic: string;
  outbox: Outbox;
  /** What each command does (given the command, for its arguments); its result is the reply's data. */
  actions: Record<CommandName, (command: Command) => Promise<unknown>>;
  log: Logger;
  /** Commands running at once; more are answered BUSY rather than queued without bound. */
  maxRunning?: number;
}

export class CommandHandler {
  private readonly ctx: CommandHandlerContext;
  private remove: (() => void) | undefined;
  private running = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(ctx: CommandHandlerContext) {
    this.ctx = ctx;
  }

  /**
   * Takes commands from now on. Called before the broker connects: a persistent session hands over the
   * commands queued while the device was away right after the CONNACK, before start() could subscribe.
   * Each is acknowledged as it arrives, not after it ran: a crash in between loses it rather than run
   * it (and reply) twice.
   */
  listen(): void {
    this.remove ??= this.ctx.transport().onMessage((topic, payload) => {
      if (topic !== this.ctx.commandsTopic) return;
      const done = this.handle(payload).finally(() => this.inFlight.delete(done));
      this.inFlight.add(done);
    });
  }

  async start(): Promise<void> {
    this.listen();
    await this.ctx.transport().subscribe([this.ctx.commandsTopic]);
  }

  /** Stops taking commands and waits for the ones running to reply. */
  async stop(): Promise<void> {
    this.remove?.();
    this.remove = undefined;
    await Promise.all(this.inFlight);
  }

  private async handle(payload: Buffer): Promise<void> {
    const parsed = parseCommand(payload);
    if (!parsed.ok) {
      this.ctx.log.warn('command refused', { id: parsed.id, ...parsed.error });
      return this.reply({ id: parsed.id, ok: false, error: parsed.error });
    }
    const { command } = parsed;
    if (this.running >= (this.ctx.maxRunning ?? 4)) {
      return this.reply(failure(command, 'BUSY', `${this.running} commands are running; try again`));
    }
    this.running++;
    try {
      const data = await this.ctx.actions[command.command](command);
      await this.reply(okReplyFor(command, data));
    } catch (err) {
      this.ctx.log.warn('command failed', {
        id: command.id,
        command: command.command,
        error: errorMessage(err),
      });
      await this.reply(
        failure(command, isBookrecError(err) ? err.code : 'COMMAND_FAILED', errorMessage(err)),
      );
    } finally {
      this.running--;
    }
  }

  private reply(reply: Reply): Promise<void> {
    return this.ctx.outbox.send({
      topic: this.ctx.repliesTopic,
      payload: JSON.stringify(reply),
      options: { retain: false, json: true },
    });
  }
}

function failure(command: Command, code: string, message: string): Reply {
  return { id: command.id, ok: false, error: { code, message } };
}
