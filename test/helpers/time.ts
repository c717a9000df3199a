/**
 * One factor for every wait limit in the tests: BOOKREC_TEST_TIME_SCALE (default 1). A machine busy with
 * other work (a shared CI runner, two CPU burners) runs the same tests with e.g. 3: every limit a test
 * waits up to (an event, a child process, a broker answer) is multiplied by it, so a slow machine waits
 * longer instead of failing. Tests wait on events and use these only as the point where they give up;
 * nothing sleeps for a scaled time.
 */
export const TIME_SCALE = readScale(process.env.BOOKREC_TEST_TIME_SCALE);

/** A wait limit in ms, scaled. */
export function scaled(ms: number): number {
  return Math.round(ms * TIME_SCALE);
}

/** A wait limit in whole seconds (for `--timeout-seconds` style flags), scaled. */
export function scaledSeconds(seconds: number): number {
  return Math.ceil(seconds * TIME_SCALE);
}

export function readScale(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 1;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 1 || v > 100) {
    throw new Error(`BOOKREC_TEST_TIME_SCALE must be a number from 1 to 100, got ${JSON.stringify(raw)}`);
  }
  return v;
}
