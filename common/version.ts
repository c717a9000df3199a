import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The project's version (x.y.z): what an agent or a server following a channel compares with a release's
 * minAgentVersion. Read from the project's package.json, found by walking up from this file, so it is
 * right both from the sources and from dist/.
 */
export function projectVersion(): string {
  for (const up of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(fileURLToPath(new URL(up, import.meta.url)), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'edge-bookrec' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not at this level
    }
  }
  return '0.0.0';
}
