import { readFileSync } from 'node:fs';
import t from 'tap';
import { main } from '../../cli/bookrec.js';
import type { LogLevel } from '../../common/log.js';
import { testContext } from '../helpers/cliContext.js';

/**
 * The command line as a new user meets it (issue 13): help per command, --version, -h, suggestions,
 * missing and bad values naming the flag, and the exit codes 0 / 1 / 2. Each case of the list
 * with its exact message.
 */
async function bookrec(args: string[], env: NodeJS.ProcessEnv = {}) {
  const c = testContext(env);
  const levels: LogLevel[] = [];
  const code = await main(args, c.ctx, {
    atLevel: (level) => {
      levels.push(level);
      return { log: c.ctx.log, progress: c.ctx.progress };
    },
  });
  return { code, out: c.out.join('\n'), err: c.err.join('\n'), levels };
}

const flagsIn = (help: string) => [...help.matchAll(/^ {2}(--[a-z0-9-]+)/gm)].map((m) => m[1]);
const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

t.test(
  '-h, --help and help list the commands; --version prints the version; nothing is exit 2',
  async (t) => {
    for (const args of [['-h'], ['--help'], ['help']]) {
      const r = await bookrec(args);
      t.equal(r.code, 0, args.join(' '));
      t.match(r.out, /^usage: bookrec <command> \[options\]/);
      t.match(r.out, /^ {2}data fetch {2,}/m);
      t.match(r.out, /exit codes: 0 done, 1 failed .*, 2 usage error/);
    }
    for (const args of [['--version'], ['-V']]) {
      const r = await bookrec(args);
      t.equal(r.code, 0);
      t.equal(r.out, `bookrec ${version}`);
    }
    const none = await bookrec([]);
    t.equal(none.code, 2);
    t.match(none.err, /^usage: bookrec <command>/);
  },
);

t.test(
  "each command's help lists only its own flags, grouped, with defaults, variables and examples",
  async (t) => {
    const broker = await bookrec(['broker', '--help']);
    t.equal(broker.code, 0);
    t.same(flagsIn(broker.out), ['--host', '--port', '--config', '--log-level']);
    t.match(broker.out, /^listen:\n {2}--host HOST +Address to listen on \[default "127\.0\.0\.1"\]$/m);
    t.match(broker.out, /^examples:\n {2}bookrec broker/m);

    const keys = await bookrec(['keys', '-h']);
    t.same(flagsIn(keys.out), ['--key-file', '--force', '--config', '--log-level']);
    t.match(keys.out, /--force, --no-force +Overwrite an existing key file \[default false\]/);

    const evaluate = await bookrec(['help', 'evaluate']);
    t.equal(evaluate.code, 0);
    t.notMatch(evaluate.out, /--url|--sha256|--from/, "no data fetch's flags");
    t.match(
      evaluate.out,
      /--models MODELS +Comma-separated models to evaluate \(pop, itemknn, ease, ease-top16\)/,
    );
    t.match(
      evaluate.out,
      /--data DIR +Data folder: ratings.csv .*\[default "data\/goodbooks-10k", \$BOOKREC_DATA_DIR\]/,
    );

    const rollout = await bookrec(['rollout', '--help']);
    t.match(rollout.out, /^usage: bookrec rollout --channel CHANNEL --percent N \[options\]$/m);
    t.match(rollout.out, /^broker connection:$/m);
    t.match(rollout.out, /--password PASSWORD .*\[secret, \$BOOKREC_MQTT_PASSWORD\]/);
    t.notMatch(rollout.out, /--chunk-size|--force|--port/, 'no other command’s flags');

    const publish = await bookrec(['publish', '--help']);
    t.notMatch(publish.out, /--gate-|--step/, 'the quality gate is rollout’s');
    const train = await bookrec(['train', '--help']);
    t.notMatch(train.out, /--alphas|--url/, "the grid's and data fetch's flags are theirs");
  },
);

t.test('unknown commands and group words: the nearest command, or the group’s commands', async (t) => {
  const typo = await bookrec(['rolout', '--percent', '5']);
  t.equal(typo.code, 2);
  t.equal(
    typo.err,
    'bookrec: unknown command "rolout" (did you mean "rollout"?); bookrec --help lists the commands [USAGE]',
  );
  const data = await bookrec(['data']);
  t.equal(data.code, 2);
  t.equal(data.err, 'bookrec: "data" needs a command: bookrec data fetch [USAGE]');
  const far = await bookrec(['frobnicate']);
  t.equal(far.err, 'bookrec: unknown command "frobnicate"; bookrec --help lists the commands [USAGE]');
});

t.test('flag problems name the flag, exit 2 and show the usage line', async (t) => {
  const cases: [string[], string][] = [
    [['evaluate', '--dta', 'x'], 'bookrec evaluate: unknown option --dta (did you mean --data?) [USAGE]'],
    [['evaluate', '--data'], 'bookrec evaluate: --data needs a value (--data DIR) [USAGE]'],
    [
      ['evaluate', '--data', '--models', 'pop'],
      'bookrec evaluate: --data needs a value (--data DIR) [USAGE]',
    ],
    [
      ['train', '--quick=maybe'],
      'bookrec train: --quick is a switch: give --quick or --no-quick (or --quick=true/false, 1/0, yes/no, on/off), not --quick=maybe [USAGE]',
    ],
    [
      ['rollout', '--channel', 'stable', '--percent', '150'],
      'bookrec rollout: --percent (rollout.percent): must be a number 0..100 (percent), got 150 [USAGE]',
    ],
    [
      ['rollout', '--channel', 'stable', '--percent', 'abc'],
      'bookrec rollout: --percent: "abc" is not a number [USAGE]',
    ],
    [['publish'], 'bookrec publish: missing PACKAGE_DIR [USAGE]'],
    [['publish', 'a', 'b'], 'bookrec publish: unexpected argument "b" [USAGE]'],
    [['keys', '-x'], 'bookrec keys: unknown option -x [USAGE]'],
    [
      ['keys', '--no-key-file'],
      'bookrec keys: unknown option --no-key-file (did you mean --key-file?) [USAGE]',
    ],
    [
      ['keys', '--log-level', 'loud'],
      'bookrec keys: --log-level: must be one of debug, info, warn, error, silent, got "loud" [USAGE]',
    ],
    [
      ['keys', '--log-level'],
      'bookrec keys: --log-level needs a value (debug|info|warn|error|silent) [USAGE]',
    ],
  ];
  for (const [args, message] of cases) {
    const r = await bookrec(args);
    t.equal(r.code, 2, args.join(' '));
    const [first, second] = r.err.split('\n');
    t.equal(first, message);
    t.match(
      second,
      new RegExp(`^usage: bookrec ${args[0]} .*\\[options\\]; bookrec ${args[0]} --help for every option$`),
    );
  }
  const env = await bookrec(['keys'], { BOOKREC_LOG_LEVEL: 'chatty' });
  t.equal(
    env.err.split('\n')[0],
    'bookrec keys: $BOOKREC_LOG_LEVEL: must be one of debug, info, warn, error, silent, got "chatty" [USAGE]',
  );
});

t.test('--log-level is taken by the host for every command, before the command sees its flags', async (t) => {
  const dir = t.testdir();
  const made = await bookrec(['keys', '--key-file', `${dir}/k.pem`, '--log-level', 'warn']);
  t.equal(made.code, 0, made.err);
  t.same(made.levels, ['warn']);
  const env = await bookrec(['keys', '--key-file', `${dir}/k2.pem`], { BOOKREC_LOG_LEVEL: 'debug' });
  t.same(env.levels, ['debug']);
  const both = await bookrec(['keys', '--key-file', `${dir}/k3.pem`, '--log-level=error'], {
    BOOKREC_LOG_LEVEL: 'debug',
  });
  t.same(both.levels, ['error'], 'the flag beats the variable');
});

t.test('exit 1 is a failure with its code; a usage error inside the command is still 2', async (t) => {
  const missing = await bookrec(['evaluate', '--data', '/nonexistent/gb', '--models', 'pop']);
  t.equal(missing.code, 1);
  t.match(missing.err, /^bookrec evaluate: .*\[DATA_MISSING\]$/);
  const rollout = await bookrec(['rollout', '--channel', 'stable']);
  t.equal(rollout.code, 2);
  t.equal(rollout.err.split('\n')[0], 'bookrec rollout: give --percent (0..100) [USAGE]');
});
