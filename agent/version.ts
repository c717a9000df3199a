import { projectVersion } from '../common/version.js';

/** The agent's version, compared with a release's minAgentVersion: the project's (common/version.ts). */
export function agentVersion(): string {
  return projectVersion();
}
