import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../common/log.js';
import type { ServeConfig } from '../config.js';

export interface Dashboard {
  routes(app: FastifyInstance): void;
  stop(): Promise<void>;
}

export async function startDashboard(_ctx: { config: ServeConfig; log: Logger }): Promise<Dashboard> {
  return { routes() {}, async stop() {} };
}
