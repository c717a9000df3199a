import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from '../common/command.js';
import { BookrecError } from '../common/errors.js';
import { createLogger } from '../common/log.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../deploy/broker.js';
import { publicKeyFile } from '../deploy/keys.js';
import { reusableKeys, reusablePackage, STAMP_FILE, trainStamp, writeStamp } from './artifacts.js';
import { demoConfig, demoSchema } from './config.js';
import { ensureData } from './data.js';
import {
  CHANNEL,
  FleetWatch,
  installState,
  prepareSpeaker,
  pressRecommend,
  RECOMMEND_LINE,
  type Speaker,
  startSpeaker,
} from './fleet.js';
import { Processes } from './processes.js';
import { heldOutReader, signalsTaken, writeSignals } from './reader.js';
import { answerLines, shown, someTitles, stepLine, trainQuality } from './report.js';
import { isRealSound, loudspeaker, requireSpeechEngine, wavFileLevels } from './sound.js';

/**
 * `bookrec demo` (`npm run demo`): the whole product on this machine with real parts. An embedded
 * broker, the quick training (or the package an earlier run trained), keys, publish, N speaker agents
 * as separate processes, a held-out reader's history as signals, a button press, the spoken answer and
 * how it compares with what the reader really read next. Everything it started is stopped before it
 * returns, on success, on error and on Ctrl-C.
 */
const command: Command = {
  path: ['demo'],
  summary:
    'the product end to end: broker, training, keys, publish, speaker agents, a reader, a spoken answer',
  usage: '',
  schema: demoSchema,
  examples: [
    'npm run demo                                            # the same as bookrec demo',
    'bookrec demo --data ../shared/datasets/goodbooks-10k --agents 2 --reader 1234',
  ],
  async run(args, ctx) {
    const config = demoConfig({ env: ctx.env, argv: args });
    requireSpeechEngine(ctx.env);
    const dataDir = await ensureData(config, ctx);
    const out = resolve(config.out);
    await mkdir(out, { recursive: true });
    const started = performance.now();
    const timeoutMs = config.timeoutSeconds * 1000;
    // The demo's own details (data loading) go to a file: the terminal shows the story, not the logs.
    const logStream = createWriteStream(join(out, 'demo.log'), { flags: 'w' });
    const log = createLogger({ level: 'info', sink: (l) => logStream.write(`${l}\n`) }, 'bookrec:demo');
    // Children get their settings from flags and config files only: a BOOKREC_* variable in this shell
    // (a device id, a broker URL) would override them, since the environment beats a config file.
    const childEnv = Object.fromEntries(
      Object.entries(ctx.env).filter(([k]) => !k.startsWith('BOOKREC_') || k === 'BOOKREC_LOG_LEVEL'),
    );
    const processes = new Processes(childEnv);
    let broker: EmbeddedBroker | undefined;
    let watch: FleetWatch | undefined;
    let step = 0;
    const timed = async <T>(name: string, work: () => Promise<T>, text: (v: T) => string): Promise<T> => {
      const t0 = performance.now();
      const v = await work();
      ctx.print(stepLine(++step, name, text(v), performance.now() - t0));
      return v;
    };
    const abortable = () => {
      if (ctx.signal.aborted) throw new BookrecError('DEMO_ABORTED', 'interrupted');
    };

    ctx.print(`bookrec demo: data ${shown(dataDir)}, working folder ${shown(out)}`);
    try {
      broker = await timed(
        'broker',
        () => startEmbeddedBroker({ host: '127.0.0.1', port: 0, log: log.child('broker') }),
        (b) => `embedded MQTT broker (aedes, in this process) on ${b.url}`,
      );

      const trainDir = join(out, 'train');
      const packageDir = join(trainDir, 'package');
      const want = await trainStamp(dataDir, config.seed);
      const reuse = config.retrain
        ? { ok: false as const, why: '--retrain' }
        : await reusablePackage(trainDir, want);
      await timed(
        'model',
        async () => {
          if (reuse.ok) return `reusing ${shown(packageDir)} (${reuse.detail}); --retrain trains again`;
          await rm(join(trainDir, STAMP_FILE), { force: true });
          const trainArgs = ['train', '--quick', '--data', dataDir, '--seed', String(config.seed)];
          const logFile = join(out, 'train.log');
          await processes.run(
            'bookrec train',
            [...trainArgs, '--out', trainDir, '--cache', join(out, 'cache')],
            logFile,
            ctx.signal,
          );
          await writeStamp(trainDir, want);
          return `trained (${reuse.why}): bookrec ${trainArgs.join(' ')} -> ${shown(packageDir)} (log ${shown(logFile)})`;
        },
        (text) => text,
      );
      const quality = await trainQuality(trainDir);
      if (quality) ctx.print(`              ${quality.line} (${shown(join(trainDir, 'report.md'))})`);

      const keyFile = join(out, 'deploy-key.pem');
      const keys = await timed(
        'keys',
        async () => {
          const have = await reusableKeys(keyFile);
          if (have.ok) return { ...have, text: `reusing ${shown(keyFile)} (key id ${have.keyId})` };
          const force = have.why.startsWith('no key pair') ? [] : ['--force'];
          await processes.run(
            'bookrec keys',
            ['keys', '--key-file', keyFile, ...force],
            join(out, 'keys.log'),
            ctx.signal,
          );
          const made = await reusableKeys(keyFile);
          if (!made.ok) throw new BookrecError('DEMO_STEP_FAILED', `bookrec keys: ${made.why}`);
          return {
            ...made,
            text: `made ${shown(keyFile)} (${have.why}); devices trust ${shown(publicKeyFile(keyFile))}, key id ${made.keyId}`,
          };
        },
        (k) => k.text,
      );
      abortable();

      // Before any agent starts: a --reader that is not a test reader fails here, with examples.
      const reader = await timed(
        'reader',
        () => heldOutReader(dataDir, config.seed, config.reader, log),
        (r) =>
          `goodbooks reader ${r.userId} (${r.chosenBy}), one of ${r.testReaders} held out of training: ${r.history.length} books read (${someTitles(r.history)}), ${r.targets.length} more held back for later`,
      );

      const speakerOut = loudspeaker(ctx.env);
      const speakers: Speaker[] = await timed(
        'agents',
        async () => {
          const list: Speaker[] = [];
          for (let i = 1; i <= config.agents; i++) {
            const sp = await prepareSpeaker(join(out, 'agents'), `speaker-${i}`, {
              brokerUrl: broker!.url,
              publicKey: keys.publicKey,
              count: config.count,
              audio: speakerOut.ok ? 'aplay' : 'none',
            });
            startSpeaker(processes, sp);
            list.push(sp);
          }
          return list;
        },
        (list) =>
          `started ${list.map((s) => s.id).join(', ')}: each \`bookrec agent --config ${shown(join(out, 'agents', '<id>', 'agent.json'))}\`, its own process and state folder`,
      );
      watch = await FleetWatch.connect(broker.url);

      const publishArgs = [
        'publish',
        packageDir,
        '--channel',
        CHANNEL,
        '--broker',
        broker.url,
        '--key-file',
        keyFile,
      ];
      const version = await timed(
        'publish',
        async () => {
          const stdout = await processes.run(
            'bookrec publish',
            publishArgs,
            join(out, 'publish.log'),
            ctx.signal,
          );
          const m = /version (\d+)/.exec(stdout);
          if (!m)
            throw new BookrecError(
              'DEMO_STEP_FAILED',
              `bookrec publish printed no version: ${stdout.trim()}`,
            );
          return { version: Number(m[1]), line: stdout.trim().split('\n').pop() ?? '' };
        },
        (v) =>
          `bookrec publish ${shown(packageDir)} --channel ${CHANNEL}: version ${v.version}, ${v.line.replace(/^.*?\): /, '')}`,
      );

      const w = watch;
      await timed(
        'install',
        () =>
          w.until(
            `every speaker reporting version ${version.version} installed`,
            () =>
              speakers.every((sp) => installState(w.statuses.get(sp.id), version.version) === 'installed')
                ? true
                : undefined,
            speakers,
            { timeoutMs, signal: ctx.signal },
          ),
        () =>
          `${speakers.length} of ${speakers.length} speakers report version ${version.version} installed in their retained status (signature, sha256, self-test)`,
      );

      const sp = speakers[0];
      abortable();
      await timed(
        'signals',
        async () => {
          await writeSignals(sp.signalFile, reader.history);
          const end = Date.now() + timeoutMs;
          while (!(await signalsTaken(sp.signalFile, join(sp.stateDir, 'signals.pos')))) {
            abortable();
            if (Date.now() > end || sp.child!.process.exitCode !== null)
              throw new BookrecError(
                'DEMO_TIMEOUT',
                `${sp.id} did not take in ${shown(sp.signalFile)} (see ${shown(sp.child!.logFile)})`,
              );
            await new Promise((r) => setTimeout(r, 50));
          }
        },
        () =>
          `${reader.history.length} "finished" events appended to ${shown(sp.signalFile)}; ${sp.id} has them in its history`,
      );

      const pressedAt = Date.now();
      const answer = await timed(
        'button',
        async () => {
          const before = w.recommendations.length;
          await pressRecommend(sp);
          return w.until(
            `answer from ${sp.id} to its button`,
            () =>
              w.recommendations
                .slice(before)
                .find((r) => r.deviceId === sp.id && r.message.trigger === 'button')?.message,
            [sp],
            { timeoutMs, signal: ctx.signal },
          );
        },
        () =>
          `pressed ${sp.id}'s recommend button (GPIO line ${RECOMMEND_LINE}, file backend: ${shown(sp.linesFile)} set low, then high); its answer came on ${w.topics.device(sp.id, 'recommendations')}`,
      );

      const wav = join(sp.stateDir, 'speech', 'last.wav');
      const end = Date.now() + timeoutMs;
      while (
        !(await stat(wav).then(
          (s) => s.mtimeMs >= pressedAt - 1000,
          () => false,
        ))
      ) {
        abortable();
        if (Date.now() > end) throw new BookrecError('DEMO_NO_SOUND', `${sp.id} wrote no speech to ${wav}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const answerWav = join(out, 'answer.wav');
      await copyFile(wav, answerWav);
      // The answer as published, and the reader it was for: what a test or a curious person checks.
      await writeFile(
        join(out, 'answer.json'),
        `${JSON.stringify({ recommendation: answer, reader: { userId: reader.userId, history: reader.history.map((b) => b.id), targets: reader.targets.map((b) => b.id) } }, null, 2)}\n`,
      );
      const levels = await wavFileLevels(answerWav);
      if (!isRealSound(levels)) {
        throw new BookrecError(
          'DEMO_NO_SOUND',
          `${answerWav} is silent or too short (peak ${levels.peak.toFixed(3)}, RMS ${levels.rms.toFixed(4)}, ${levels.seconds.toFixed(1)} s)`,
        );
      }
      const books = (answer.books ?? []) as { id: number; title: string; authors: string }[];
      for (const line of answerLines({
        deviceId: sp.id,
        text: String(answer.text ?? ''),
        books,
        reader,
        wav: answerWav,
        levels,
        quality,
        speaker: speakerOut.ok
          ? `played on ${speakerOut.card} with aplay`
          : `loudspeaker: ${speakerOut.why}, so the WAV only`,
      }))
        ctx.print(line);
    } finally {
      await watch?.close().catch(() => undefined);
      const running = processes.running();
      await processes.stopAll();
      await broker?.stop();
      await new Promise<void>((r) => logStream.end(() => r()));
      const n = processes.started;
      ctx.print(
        `\nStopped ${running} running agent${running === 1 ? '' : 's'}${broker ? ' and the broker' : ''}; all ${n} process${n === 1 ? '' : 'es'} the demo started have ended. ` +
          `Total ${((performance.now() - started) / 1000).toFixed(1)} s. Logs in ${shown(out)}/ (train.log, publish.log, agents/<id>/agent.log).`,
      );
    }
  },
};

export default command;
