import { readFileSync } from 'node:fs';

/**
 * This process's highest resident memory, in MB. Linux's VmHWM belongs to the address space, which exec
 * makes new; getrusage's maxRSS (process.resourceUsage) carries the parent's peak at fork over into the
 * child, so a child started by a large parent would report the parent's figure.
 */
export function peakRssMb(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}
