/**
 * Quiet hours: a local-time window with no speech (recommendations are still published). The window
 * may wrap midnight (22:00-07:00). Empty start/end: never quiet. start == end: never quiet either, a
 * zero-length window rather than the whole day, so a typo does not silence the speaker for good.
 */
export function isQuietTime(now: Date, start: string, end: string): boolean {
  if (start === '' || end === '') return false;
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const s = minutes(start);
  const e = minutes(end);
  const t = now.getHours() * 60 + now.getMinutes();
  if (s === e) return false;
  return s < e ? t >= s && t < e : t >= s || t < e;
}
