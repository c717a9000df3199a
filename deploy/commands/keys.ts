import type { Command } from '../../common/command.js';
import { deployConfig, keyFilePath, keysSchema } from '../config.js';
import { createKeyFiles, publicKeyFile } from '../keys.js';

const command: Command = {
  path: ['keys'],
  summary: 'make the Ed25519 key pair that signs releases',
  usage: '',
  schema: keysSchema,
  examples: [
    'bookrec keys                                # ~/.config/bookrec/deploy-key.pem (0600) and deploy-key.pub',
    'bookrec keys --key-file /secure/release-key.pem --force',
  ],
  async run(args, ctx) {
    const config = deployConfig(keysSchema, { env: ctx.env, argv: args });
    const file = keyFilePath(config.keyFile, ctx.env);
    const pair = await createKeyFiles(file, config.keys.force);
    ctx.log.info('key pair written', { file, keyId: pair.keyId });
    ctx.print(
      [
        `private key: ${file} (mode 0600: keep it off devices)`,
        `public key:  ${publicKeyFile(file)}`,
        `key id:      ${pair.keyId}`,
        '',
        'give devices this public key:',
        pair.publicKey,
      ].join('\n'),
    );
  },
};

export default command;
