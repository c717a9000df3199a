import { BookrecError } from '../errors.js';
import type { ManifestEntry } from './quantize.js';

/**
 * weights.bin decoded without tfjs, value for value as tfjs's own decodeWeights does it: uint8 and uint16
 * affine (q * scale + min, computed in float64, stored float32), float16 widened exactly, float32 and
 * int32 as stored. The JS scoring engine uses it; parseModelJson has already checked the entries and
 * the file's length.
 */
export type WeightValues = Float32Array | Int32Array;

export function decodeWeightValues(
  specs: readonly ManifestEntry[],
  data: Uint8Array,
): Map<string, WeightValues> {
  const out = new Map<string, WeightValues>();
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  for (const spec of specs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const q = spec.quantization;
    const stored = q?.dtype ?? spec.dtype;
    const width = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 }[stored as string];
    if (width === undefined || (spec.dtype !== 'float32' && spec.dtype !== 'int32')) {
      throw new BookrecError(
        'MODEL_INVALID',
        `weight ${spec.name}: ${stored} weights are not supported here`,
      );
    }
    if (offset + size * width > data.byteLength) {
      throw new BookrecError('MODEL_INVALID', `weight ${spec.name}: the weight data ends early`);
    }
    const values = spec.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const at = offset + i * width;
      switch (stored) {
        case 'float32':
          values[i] = view.getFloat32(at, true);
          break;
        case 'int32':
          values[i] = view.getInt32(at, true);
          break;
        case 'float16':
          values[i] = float16ToNumber(view.getUint16(at, true));
          break;
        case 'uint8':
          values[i] = data[at] * q!.scale! + q!.min!;
          break;
        default:
          values[i] = view.getUint16(at, true) * q!.scale! + q!.min!;
      }
    }
    out.set(spec.name, values);
    offset += size * width;
  }
  return out;
}

/** The value of IEEE 754 binary16 bits (exact: every half is a float32). */
export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
