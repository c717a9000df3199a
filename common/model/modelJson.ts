import type * as tf from '@tensorflow/tfjs-core';
import { BookrecError, errorMessage } from '../errors.js';
import { type ManifestEntry, storedWidth } from './quantize.js';

/**
 * model.json, read without tfjs: the checks every loader runs before it trusts the file (one weights
 * group, one fixed weights file name, known dtypes and quantisations, the byte count the weights file
 * must have). folderIo hands the result to tfjs; the JS scoring engine (common/inference) reads it
 * directly, so a device that runs a sparse student never loads tfjs at all.
 */
export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

export interface ParsedModelJson {
  json: tf.io.ModelJSON;
  specs: ManifestEntry[];
  weightBytes: number;
}

function invalid(message: string): BookrecError {
  return new BookrecError('MODEL_INVALID', `${MODEL_FILE}: ${message}`);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and checks model.json before tfjs sees it, so a bad file fails with a message, not deep in tfjs. */
export function parseModelJson(bytes: Uint8Array): ParsedModelJson {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw invalid(`not valid JSON (${errorMessage(err)})`);
  }
  if (!isObject(value)) throw invalid('not a JSON object');
  if (!isObject(value.modelTopology)) throw invalid('modelTopology is missing or not an object');
  const manifest = value.weightsManifest;
  if (!Array.isArray(manifest) || manifest.length !== 1 || !isObject(manifest[0])) {
    throw invalid('weightsManifest must hold exactly one group');
  }
  const paths = manifest[0].paths;
  // One fixed file name: a manifest cannot make the loader read anything else (e.g. "../x").
  if (!Array.isArray(paths) || paths.length !== 1 || paths[0] !== WEIGHTS_FILE) {
    throw invalid(`weightsManifest paths must be ["${WEIGHTS_FILE}"]`);
  }
  const weights = manifest[0].weights;
  if (!Array.isArray(weights)) throw invalid('weightsManifest[0].weights must be an array');
  const specs = weights.map((w, i) => checkEntry(w, i));
  let weightBytes = 0;
  for (const spec of specs) weightBytes += spec.shape.reduce((a, b) => a * b, 1) * storedWidth(spec)!;
  return { json: value as unknown as tf.io.ModelJSON, specs, weightBytes };
}

function checkEntry(w: unknown, i: number): ManifestEntry {
  const at = `weight ${i}`;
  if (!isObject(w)) throw invalid(`${at} is not an object`);
  if (typeof w.name !== 'string' || w.name === '') throw invalid(`${at} has no name`);
  const where = `weight ${w.name}`;
  if (!Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw invalid(`${where}: shape must be a list of non-negative integers`);
  }
  if (w.dtype !== 'float32' && w.dtype !== 'int32' && w.dtype !== 'bool') {
    throw invalid(`${where}: dtype ${JSON.stringify(w.dtype)} is not float32, int32 or bool`);
  }
  const q = w.quantization;
  if (q !== undefined) {
    if (!isObject(q)) throw invalid(`${where}: quantization must be an object`);
    if (q.dtype === 'uint8' || q.dtype === 'uint16') {
      if (typeof q.scale !== 'number' || !Number.isFinite(q.scale)) throw invalid(`${where}: bad scale`);
      if (typeof q.min !== 'number' || !Number.isFinite(q.min)) throw invalid(`${where}: bad min`);
      if (w.dtype === 'bool') throw invalid(`${where}: bool weights cannot be quantized`);
    } else if (q.dtype === 'float16') {
      if (w.dtype !== 'float32') throw invalid(`${where}: float16 needs a float32 weight`);
    } else {
      throw invalid(
        `${where}: quantization dtype ${JSON.stringify(q.dtype)} is not uint8, uint16 or float16`,
      );
    }
  }
  return w as unknown as ManifestEntry;
}
