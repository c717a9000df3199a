/**
 * Buttons on GPIO lines, behind one small interface so the service does not care how edges are read:
 * gpiomon (libgpiod, the character device: modern kernels), onoff (sysfs, with the chip's base number
 * found for kernels 6.6+), or a fake for tests and boards without pins.
 */

/** A line changed level: offset on the chip, the new raw level, when (ms, monotonic enough). */
export type EdgeListener = (offset: number, level: 0 | 1, atMs: number) => void;

export interface GpioLines {
  readonly name: string;
  /** Starts watching both edges of `offsets`; errors (no chip, no permission) reject here. */
  start(offsets: readonly number[], onEdge: EdgeListener): Promise<void>;
  stop(): Promise<void>;
}
