import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { writeFileAtomic } from '../atomicFile.js';
import { BookrecError, errorMessage } from '../errors.js';
import { isObject, MODEL_FILE, type ParsedModelJson, parseModelJson, WEIGHTS_FILE } from './modelJson.js';
import { modeFor, type Quantization, quantizeWeights } from './quantize.js';

/**
 * A LayersModel in a folder, the layout tfjs-node's `file://` handler uses (model.json + one
 * weights.bin), without tfjs-node: it downloads libtensorflow at install time, which fails offline and on
 * many ARM boards. Weights are quantised on save (quantize.ts) in tfjs's own manifest encoding, so any
 * tfjs loader dequantises them.
 */

/** Reads one file of the folder by name; readPackage hands in the bytes it has already checksummed. */
export type ReadFile = (name: string) => Promise<Uint8Array>;

export interface FolderIoOptions {
  /** How float32 weights are stored on save. Default uint8. */
  quantization?: Quantization;
  /** Where load() gets file bytes from. Default: the folder on disk. */
  read?: ReadFile;
}

export function folderIo(dir: string, options: FolderIoOptions = {}): tf.io.IOHandler {
  const quantization = options.quantization ?? 'uint8';
  modeFor(quantization); // fail on a bad mode now, not at save time
  const read = options.read ?? ((name: string) => readModelFile(dir, name));
  return {
    save: async (artifacts) => {
      const files = encodeModelFiles(artifacts, quantization);
      // weights.bin first: a crash between the two leaves the old model.json describing the old weights'
      // layout, which the length check on load rejects. Whole-folder atomicity is writePackage's job.
      await writeFileAtomic(join(dir, WEIGHTS_FILE), files.weights);
      await writeFileAtomic(join(dir, MODEL_FILE), files.modelJson);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: files.modelJson.length,
          weightDataBytes: files.weights.length,
        },
      };
    },
    load: async () => {
      const modelJson = await read(MODEL_FILE);
      const parsed = parseModelJson(modelJson);
      return artifactsFrom(parsed, await read(WEIGHTS_FILE));
    },
  };
}

async function readModelFile(dir: string, name: string): Promise<Uint8Array> {
  const path = join(dir, name);
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new BookrecError('MODEL_MISSING_FILE', `${path} is missing`, { cause: err });
    throw new BookrecError('MODEL_INVALID', `${path} cannot be read: ${errorMessage(err)}`, { cause: err });
  }
}

/** model.json and weights.bin bytes for a model's artifacts, weights re-encoded under `quantization`. */
export function encodeModelFiles(
  artifacts: tf.io.ModelArtifacts,
  quantization: Quantization,
): { modelJson: Uint8Array; weights: Uint8Array } {
  const topology = artifacts.modelTopology;
  if (!isObject(topology) || topology instanceof ArrayBuffer) {
    throw new BookrecError('MODEL_SAVE', 'only models with a JSON topology (LayersModel) can be saved');
  }
  const data =
    artifacts.weightData === undefined
      ? new ArrayBuffer(0)
      : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
  const quantized = quantizeWeights(artifacts.weightSpecs ?? [], data, quantization);
  const json: tf.io.ModelJSON = {
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    modelTopology: topology,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: quantized.specs }],
  };
  if (artifacts.userDefinedMetadata !== undefined) json.userDefinedMetadata = artifacts.userDefinedMetadata;
  return { modelJson: new TextEncoder().encode(JSON.stringify(json)), weights: quantized.data };
}

function artifactsFrom(parsed: ParsedModelJson, weights: Uint8Array): tf.io.ModelArtifacts {
  if (weights.length !== parsed.weightBytes) {
    throw new BookrecError(
      'MODEL_INVALID',
      `${WEIGHTS_FILE} has ${weights.length} bytes but ${MODEL_FILE} describes ${parsed.weightBytes}` +
        ' (truncated, or not the weights of this model)',
    );
  }
  const { json } = parsed;
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    userDefinedMetadata: json.userDefinedMetadata,
    weightSpecs: parsed.specs,
    // A copy that owns its whole buffer: Node's file buffers can be views into a shared pool.
    weightData: weights.slice().buffer,
  };
}

/** Saves through folderIo: model.json + weights.bin in `dir`. */
export async function saveModel(
  model: tfl.LayersModel,
  dir: string,
  quantization: Quantization = 'uint8',
): Promise<void> {
  await model.save(folderIo(dir, { quantization }));
}

/**
 * Loads a LayersModel from a handler, all or nothing: unlike tfl.loadLayersModel, a failure while
 * setting the weights (names or shapes that do not fit the topology) disposes the half-built model
 * instead of leaking its variables. Errors are BookrecErrors (MODEL_*).
 */
export async function loadModel(handler: tf.io.IOHandler): Promise<tfl.LayersModel> {
  if (handler.load === undefined) throw new BookrecError('MODEL_INVALID', 'the IO handler cannot load');
  const artifacts = await handler.load();
  const { weightSpecs, weightData, ...topologyOnly } = artifacts;
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(tf.io.fromMemory(topologyOnly));
  } catch (err) {
    throw new BookrecError(
      'MODEL_INVALID',
      `${MODEL_FILE}: the model topology does not load: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
  let values: tf.NamedTensorMap = {};
  try {
    if (weightSpecs !== undefined && weightData !== undefined) {
      values = tf.io.decodeWeights(weightData, weightSpecs);
    }
    model.loadWeights(values, true);
    return model;
  } catch (err) {
    model.dispose();
    throw new BookrecError('MODEL_INVALID', `${WEIGHTS_FILE} does not fit the model: ${errorMessage(err)}`, {
      cause: err,
    });
  } finally {
    tf.dispose(values);
  }
}
