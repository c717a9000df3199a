/**
 * The house rules of the code base (docs/architecture.md), checked by `npm run check`:
 * common/ is the floor every side stands on and imports none of them; the speaker (agent/) never loads
 * training or fleet-operator code; deploy/ never loads the speaker's or the trainer's; the HTTP service
 * (serve/) ranks with common/ and reads the fleet through deploy/, never the speaker's or trainer's code,
 * and its pages (serve/pages/) run in a browser, so no Node built-in; the command line
 * (cli/) sits on top and nothing imports it; and no module imports itself through others.
 */
const SIDES = '^(agent|deploy|trainer|serve|sim|demo|bench|cli|scripts)/';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'An import cycle makes load order matter and the two modules one: cut it along a seam.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'common-is-the-floor',
      comment: 'common/ is shared by every side; it must not reach up into one.',
      severity: 'error',
      from: { path: '^common/' },
      to: { path: SIDES },
    },
    {
      name: 'agent-stays-on-the-device',
      comment: 'The speaker never loads training or fleet-operator code.',
      severity: 'error',
      from: { path: '^agent/' },
      to: { path: '^(trainer|deploy|serve|sim|demo|bench|cli)/' },
    },
    {
      name: 'deploy-stays-with-the-operator',
      comment: 'deploy/ talks to devices only through the wire contract in common/protocol.',
      severity: 'error',
      from: { path: '^deploy/' },
      to: { path: '^(agent|trainer|serve|sim|demo|bench|cli)/' },
    },
    {
      name: 'trainer-stays-in-the-cloud',
      comment: 'The trainer hands its package over through common/model, not by calling the other sides.',
      severity: 'error',
      from: { path: '^trainer/' },
      to: { path: '^(agent|deploy|serve|sim|demo|bench|cli)/' },
    },
    {
      name: 'serve-ranks-with-the-shared-code',
      comment:
        'The server ranks with common/inference like the speaker and the phone; it may read the fleet ' +
        'through deploy/ (the dashboard), never load the speaker or the trainer.',
      severity: 'error',
      from: { path: '^serve/' },
      to: { path: '^(agent|trainer|sim|demo|bench|cli)/' },
    },
    {
      name: 'pages-run-in-a-browser',
      comment: 'serve/pages/ is bundled for the reader’s phone and the dashboard: no Node built-in, no side.',
      severity: 'error',
      from: { path: '^serve/pages/' },
      to: { path: '^(agent|trainer|deploy|sim|demo|bench|cli)/|@tensorflow' },
    },
    {
      name: 'pages-use-no-node-built-in',
      severity: 'error',
      from: { path: '^serve/pages/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'inference-core-runs-anywhere',
      comment:
        'common/inference ranks on a speaker, a server and in a browser: no Node built-in and no ML library ' +
        'except in its Node adapter (nodePackageSource.ts); test/common/inference/browserBundle.test.ts ' +
        'checks what it reaches, too.',
      severity: 'error',
      from: { path: '^common/inference/', pathNot: '^common/inference/node[A-Z][^/]*[.]ts$' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'inference-core-loads-no-ml-library',
      severity: 'error',
      from: { path: '^common/inference/' },
      to: { path: '@tensorflow' },
    },
    {
      name: 'nothing-imports-cli',
      comment: 'cli/ only registers commands and draws the terminal; commands implement common/command.ts.',
      severity: 'error',
      from: { pathNot: '^cli/' },
      to: { path: '^cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|test)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
