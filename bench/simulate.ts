import { createLogger } from '../common/log.js';
import { renderReport } from '../sim/report.js';
import { runScenario } from '../sim/scenario.js';

/**
 * The fleet simulator at full size: 200 agent cores in this process, each playing a held-out goodbooks
 * reader, through the worse -> better (canary, gate, widen) -> broken (canary, gate, rollback) scenario
 * of `bookrec simulate`. Prints the report (acceptance per version vs offline NDCG, gate decisions, time
 * and RSS per phase) and the CPU time. Packages are trained on the first run into out/bench-sim/packages
 * and reused afterwards. BENCH_SIM_DEVICES changes the size; BOOKREC_DATA_DIR the data.
 */
export default async function simulateBench(print: (text: string) => void): Promise<void> {
  const devices = Number(process.env.BENCH_SIM_DEVICES ?? 200);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const report = await runScenario({
    devices,
    dataDir: process.env.BOOKREC_DATA_DIR ?? '../shared/datasets/goodbooks-10k',
    outDir: 'out/bench-sim',
    cacheDir: 'out/cache',
    profile: 'quick',
    seed: 42,
    rounds: 3,
    canaryPercent: 10,
    rule: { margin: 0.02, minRecommendations: 40 },
    maxHoldRounds: 3,
    log: createLogger({ level: 'warn' }),
    progress: print,
  });
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  print('');
  print(renderReport(report));
  print(
    `CPU: user ${(cpu.user / 1e6).toFixed(1)} s, system ${(cpu.system / 1e6).toFixed(1)} s over ${wall.toFixed(1)} s wall ` +
      `(${((cpu.user + cpu.system) / 1e6 / wall).toFixed(2)} cores on average; this machine has 2)`,
  );
}
