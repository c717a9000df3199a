/**
 * A typed array with room for at least `need` entries: the same array when it has it, else one twice as
 * large (or `need`) holding the first `keep` entries. For sparse rows built without knowing their count.
 */
export function grown<T extends Int32Array | Float32Array>(a: T, keep: number, need: number): T {
  if (need <= a.length) return a;
  const next = new (a.constructor as new (n: number) => T)(Math.max(a.length * 2, need));
  next.set(a.subarray(0, keep));
  return next;
}
