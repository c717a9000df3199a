#!/usr/bin/env node
import { errorMessage } from '../common/errors.js';
import { main } from './bookrec.js';
import { hostContext } from './host.js';

/**
 * `bookrec-agent` (the Debian package's command, packaging/deb/bookrec-agent): `bookrec agent` as a program
 * of its own, so its help, --version and messages say `bookrec-agent`, the name the admin typed.
 */
const { ctx, atLevel } = hostContext();
main(process.argv.slice(2), ctx, { atLevel, alias: { name: 'bookrec-agent', path: ['agent'] } }).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bookrec-agent: ${errorMessage(err)}\n`);
    process.exitCode = 1;
  },
);
