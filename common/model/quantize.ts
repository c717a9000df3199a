import type * as tf from '@tensorflow/tfjs-core';
import { BookrecError } from '../errors.js';

/**
 * Weight quantisation in tfjs's own weight-manifest encoding (a WeightsManifestEntry's `quantization`
 * field), so that tfjs's decodeWeights dequantises on load and the device needs no code of ours for it:
 *
 * - uint8 (affine): stored q in 0..255, read back as q * scale + min (tfjs computes this in float64 and
 *   stores float32). Per tensor, min/max nudged as tfjs-converter does so that 0 is exactly representable
 *   when the range covers it (zero biases and pruned weights stay exactly zero). Error <= scale / 2.
 * - float16: IEEE half precision, rounded to nearest even; tfjs decodes it with its own table decoder.
 * - index weights (SparseFanIn 'sources', integer input indices kept in a float32 weight): uint16 with
 *   scale 1 and min 0, exact for 0..65535. Any other value is refused rather than silently rounded.
 */
export type WeightQuantization = 'uint8' | 'float16' | 'none';
export const WEIGHT_QUANTIZATIONS: readonly WeightQuantization[] = ['uint8', 'float16', 'none'];

/**
 * One mode for every weight, or a default with exceptions by exact weight name (e.g. float16 for the
 * few weights that ranking is most sensitive to, uint8 for the large rest: docs/model-package.md).
 */
export type QuantizationPlan = { default: WeightQuantization; byName?: Record<string, WeightQuantization> };
export type Quantization = WeightQuantization | QuantizationPlan;

export function isWeightQuantization(v: unknown): v is WeightQuantization {
  return typeof v === 'string' && (WEIGHT_QUANTIZATIONS as readonly string[]).includes(v);
}

/** The mode for each weight name under a plan; refuses unknown modes. */
export function modeFor(quantization: Quantization): (name: string) => WeightQuantization {
  const plan = typeof quantization === 'string' ? { default: quantization } : quantization;
  const modes = [plan.default, ...Object.values(plan.byName ?? {})];
  const bad = modes.find((m) => !isWeightQuantization(m));
  if (bad !== undefined) throw new BookrecError('MODEL_QUANTIZE', `unknown weight quantization "${bad}"`);
  return (name) =>
    plan.byName !== undefined && Object.hasOwn(plan.byName, name) ? plan.byName[name] : plan.default;
}

export type ManifestEntry = tf.io.WeightsManifestEntry;

const UINT8_MAX = 255;
const UINT16_MAX = 65535;
const HALF_INFINITY = 0x7c00;

/** SparseFanIn's integer index table: a weight whose last name segment is `sources`. */
export function isIndexWeight(name: string): boolean {
  return name === 'sources' || name.endsWith('/sources');
}

export interface AffineParams {
  min: number;
  scale: number;
}

/** The uint8 grid for values in [lo, hi], with zero on the grid when lo <= 0 <= hi (tfjs-converter's rule). */
export function affineRange(lo: number, hi: number): AffineParams {
  if (!(hi > lo)) return { min: Number.isFinite(lo) ? lo : 0, scale: 1 };
  const scale = (hi - lo) / UINT8_MAX;
  const min = lo <= 0 && hi >= 0 ? -Math.round(-lo / scale) * scale : lo;
  return { min, scale };
}

export function quantizeUint8(values: Float32Array): { bytes: Uint8Array } & AffineParams {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const { min, scale } = affineRange(lo, hi);
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    // Clamped because nudging the grid to hit zero can push the top value half a step past 255.
    const q = Math.round((values[i] - min) / scale);
    bytes[i] = Math.min(UINT8_MAX, Math.max(0, q));
  }
  return { bytes, min, scale };
}

/**
 * IEEE 754 binary16 bits of a float32 given by its bits, round to nearest even (the inverse of tfjs's
 * float16 decoder). Takes bits, not a number, so callers read them through a Uint32Array view.
 */
export function float32BitsToFloat16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | HALF_INFINITY | (mant === 0 ? 0 : 0x200);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | HALF_INFINITY;
  if (e <= 0) {
    if (e < -10) return sign;
    // Subnormal half: the implicit leading 1 becomes an explicit bit, shifted into the 10-bit field.
    const m = mant | 0x800000;
    const shift = 14 - e;
    return sign | roundShift(m, shift);
  }
  // A carry out of the mantissa correctly bumps the exponent (and overflows to infinity at the top).
  return sign | ((e << 10) + roundShift(mant, 13));
}

function roundShift(m: number, shift: number): number {
  const kept = m >>> shift;
  const rest = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
}

export function quantizeFloat16(values: Float32Array, name: string): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const h = float32BitsToFloat16(bits[i]);
    if ((h & 0x7fff) === HALF_INFINITY) {
      throw new BookrecError(
        'MODEL_QUANTIZE',
        `weight ${name}: value ${values[i]} at ${i} is outside the float16 range (|v| < 65520)`,
      );
    }
    out[i] = h;
  }
  return out;
}

export function quantizeIndices(values: Float32Array, name: string): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v > UINT16_MAX) {
      throw new BookrecError(
        'MODEL_QUANTIZE',
        `weight ${name}: index ${v} at ${i} is not an integer in 0..${UINT16_MAX}, so uint16 cannot hold it`,
      );
    }
    out[i] = v;
  }
  return out;
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Re-encodes the float32 weights that tfjs-layers saves (`specs` + raw `data`) under a quantisation mode.
 * Returns the new manifest entries and the concatenated bytes, in the same order.
 */
export function quantizeWeights(
  specs: readonly ManifestEntry[],
  data: ArrayBuffer,
  quantization: Quantization,
): { specs: ManifestEntry[]; data: Uint8Array } {
  const modeOf = modeFor(quantization);
  const unused = Object.keys(typeof quantization === 'string' ? {} : (quantization.byName ?? {})).filter(
    (name) => !specs.some((s) => s.name === name),
  );
  if (unused.length > 0) {
    // A misspelt name would silently leave that weight at the default precision.
    throw new BookrecError(
      'MODEL_QUANTIZE',
      `the quantization plan names weights the model lacks: ${unused.join(', ')}`,
    );
  }
  const parts: Uint8Array[] = [];
  const out: ManifestEntry[] = [];
  let offset = 0;
  for (const spec of specs) {
    if (spec.quantization !== undefined) {
      throw new BookrecError('MODEL_QUANTIZE', `weight ${spec.name} is already quantized`);
    }
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.dtype !== 'float32' && spec.dtype !== 'int32' && spec.dtype !== 'bool') {
      throw new BookrecError('MODEL_QUANTIZE', `weight ${spec.name}: dtype ${spec.dtype} is not supported`);
    }
    const width = spec.dtype === 'bool' ? 1 : 4;
    const raw = new Uint8Array(data.slice(offset, offset + size * width));
    if (raw.length !== size * width) {
      throw new BookrecError('MODEL_QUANTIZE', `weight ${spec.name}: the weight data ends early`);
    }
    offset += size * width;
    const entry: ManifestEntry = { name: spec.name, shape: [...spec.shape], dtype: spec.dtype };
    out.push(entry);
    if (spec.dtype !== 'float32') {
      parts.push(raw);
      continue;
    }
    const values = new Float32Array(raw.buffer);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new BookrecError(
        'MODEL_QUANTIZE',
        `weight ${spec.name}: value ${values[bad]} at ${bad} is not finite`,
      );
    }
    const mode = modeOf(spec.name);
    if (mode === 'none') {
      parts.push(raw);
    } else if (isIndexWeight(spec.name)) {
      entry.quantization = { dtype: 'uint16', scale: 1, min: 0 };
      parts.push(bytesOf(quantizeIndices(values, spec.name)));
    } else if (mode === 'float16') {
      entry.quantization = { dtype: 'float16' };
      parts.push(bytesOf(quantizeFloat16(values, spec.name)));
    } else {
      const q = quantizeUint8(values);
      entry.quantization = { dtype: 'uint8', scale: q.scale, min: q.min };
      parts.push(q.bytes);
    }
  }
  if (offset !== data.byteLength) {
    throw new BookrecError(
      'MODEL_QUANTIZE',
      `weight data has ${data.byteLength} bytes, the specs describe ${offset}`,
    );
  }
  return { specs: out, data: concatBytes(parts) };
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Bytes one stored value of a manifest entry takes (quantized or raw); undefined for unsupported dtypes. */
export function storedWidth(entry: ManifestEntry): number | undefined {
  const dtype = entry.quantization?.dtype ?? entry.dtype;
  const widths: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };
  return widths[dtype];
}
