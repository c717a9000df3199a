import { type Command, checkFlags } from '../../common/command.js';
import { describeSchema, schemaFlags } from '../../common/config.js';
import { deployConfig, deploySchema } from '../config.js';
import { createKeyFiles, publicKeyFile } from '../keys.js';

const USAGE = 'bookrec keys [--key-file FILE.pem] [--force]';

const command: Command = {
  path: ['keys'],
  summary: 'make the Ed25519 key pair that signs releases',
  help: () => [`usage: ${USAGE}`, '', 'settings:', ...describeSchema(deploySchema)].join('\n'),
  async run(args, ctx) {
    checkFlags(args, schemaFlags(deploySchema), USAGE);
    const config = deployConfig({ env: ctx.env, argv: args });
    const pair = await createKeyFiles(config.keyFile, config.force);
    ctx.log.info('key pair written', { file: config.keyFile, keyId: pair.keyId });
    ctx.print(
      [
        `private key: ${config.keyFile} (mode 0600: keep it off devices)`,
        `public key:  ${publicKeyFile(config.keyFile)}`,
        `key id:      ${pair.keyId}`,
        '',
        'give devices this public key:',
        pair.publicKey,
      ].join('\n'),
    );
  },
};

export default command;
