import { BookrecError, errorMessage } from '../errors.js';
import { invertSources } from '../model/fanInIndex.js';
import { isObject, MODEL_FILE, parseModelJson, WEIGHTS_FILE } from '../model/modelJson.js';
import { decodeWeightValues } from '../model/weightDecode.js';
import { type CheckedPackage, packageFile } from './checkedPackage.js';
import type { ScoringEngine, TouchedScores } from './engine.js';
import { filePath } from './packageSource.js';

/**
 * The sparse student run in plain JavaScript: a model that is exactly history -> SparseFanIn (the shipped
 * student's topology) needs no ML library to score. For each non-zero input i (a listener's history holds
 * tens of books out of thousands) it adds x[i] * w to the few outputs i feeds, in float32 and in the
 * same order as the tfjs layer (common/model/sparseFanIn.ts), so both give the same scores. On a speaker
 * this saves loading tfjs-core, tfjs-layers and a backend (tens of MB of resident memory); in a browser,
 * the download. Returns undefined for any other topology: the host's loader takes those.
 */
export function sparseEngine(pkg: CheckedPackage): ScoringEngine | undefined {
  const parsed = parseModelJson(packageFile(pkg, MODEL_FILE));
  const layer = sparseLayerOf(parsed.json.modelTopology);
  if (!layer) return undefined;
  const items = pkg.catalogue.length;
  if (layer.units !== items || layer.inputs !== items) {
    throw new BookrecError(
      'PACKAGE_INVALID',
      `${filePath(pkg.source, pkg.manifest.catalogueFile)} has ${items} books but ${filePath(pkg.source, MODEL_FILE)} maps ${layer.inputs} inputs to ${layer.units} scores`,
    );
  }
  const bytes = packageFile(pkg, WEIGHTS_FILE);
  if (bytes.length !== parsed.weightBytes) {
    throw new BookrecError(
      'PACKAGE_INVALID',
      `${WEIGHTS_FILE} has ${bytes.length} bytes but ${MODEL_FILE} describes ${parsed.weightBytes} (truncated, or not the weights of this model)`,
    );
  }
  const values = decodeWeightValues(parsed.specs, bytes);
  const weights = weightOf(values, `${layer.name}/weights`, layer.units * layer.fanIn);
  const sources = weightOf(values, `${layer.name}/sources`, layer.units * layer.fanIn);
  let edges: ReturnType<typeof invertSources>;
  try {
    edges = invertSources(sources, layer.units, layer.fanIn, items);
  } catch (err) {
    throw new BookrecError('PACKAGE_INVALID', `${WEIGHTS_FILE}: ${errorMessage(err)}`, { cause: err });
  }
  // Each input's weights side by side, in its edges' order: a history book's edges then read one short
  // run of memory instead of 16 scattered slots of the weight table (on 82,628 books, most of the sparse
  // path's time was those cache misses). The slot table is not kept: the weights are all it was for.
  const { start, target } = edges;
  const edgeWeight = new Float32Array(edges.slot.length);
  for (let e = 0; e < edgeWeight.length; e++) edgeWeight[e] = weights[edges.slot[e]];
  /** Adds row x's scores into out from `base` (out is zero there). */
  const push = (x: Float32Array, b: number, out: Float32Array, base: number) => {
    if (x.length !== items) {
      throw new BookrecError('MODEL_INPUT', `input ${b} has ${x.length} values, the model takes ${items}`);
    }
    for (let i = 0; i < items; i++) {
      const v = x[i];
      if (v === 0) continue;
      for (let e = start[i]; e < start[i + 1]; e++) {
        // Float32Array stores round every step to float32, as the tfjs kernels do.
        out[base + target[e]] += Math.fround(v * edgeWeight[e]);
      }
    }
  };
  // The sparse path's buffers, made on its first use: scores, which books hold one, and their list.
  let touched: { scores: Float32Array; reached: Uint8Array; touched: Int32Array; count: number } | undefined;
  const scoreSparse = (indices: Int32Array, values: Float32Array): TouchedScores => {
    if (indices.length !== values.length) {
      throw new BookrecError('MODEL_INPUT', `${indices.length} input indices but ${values.length} values`);
    }
    // Checked before anything is added, so a refused input leaves the buffers clean for the next one.
    for (let k = 0, last = -1; k < indices.length; last = indices[k++]) {
      if (indices[k] <= last || indices[k] >= items) {
        throw new BookrecError(
          'MODEL_INPUT',
          `input index ${indices[k]} at ${k} is not ascending or not below ${items} (the order the dense path sums in)`,
        );
      }
    }
    touched ??= {
      scores: new Float32Array(items),
      reached: new Uint8Array(items),
      touched: new Int32Array(items),
      count: 0,
    };
    const t = touched;
    const { scores, reached, touched: list } = t;
    // Only the previous answer's books are cleared: clearing the catalogue would cost what the dense path does.
    for (let k = 0; k < t.count; k++) {
      scores[list[k]] = 0;
      reached[list[k]] = 0;
    }
    let count = 0;
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      const v = values[k];
      if (v === 0) continue;
      for (let e = start[i]; e < start[i + 1]; e++) {
        const j = target[e];
        if (reached[j] === 0) {
          reached[j] = 1;
          list[count++] = j;
        }
        // The same float32 steps in the same order as push() above: the same scores to the last bit.
        scores[j] += Math.fround(v * edgeWeight[e]);
      }
    }
    t.count = count;
    return t;
  };
  return {
    kind: 'sparse-js',
    items,
    score(inputs) {
      const out = new Float32Array(inputs.length * items);
      for (const [b, x] of inputs.entries()) push(x, b, out, b * items);
      return out;
    },
    scoreInto(input, out) {
      if (out.length !== items) {
        throw new BookrecError('MODEL_INPUT', `an output of ${out.length} values for ${items} scores`);
      }
      push(input, 0, out.fill(0), 0);
    },
    scoreSparse,
    dispose() {},
  };
}

interface SparseLayer {
  name: string;
  inputs: number;
  units: number;
  fanIn: number;
}

/** The SparseFanIn layer when the topology is exactly input -> SparseFanIn -> output, else undefined. */
function sparseLayerOf(topology: unknown): SparseLayer | undefined {
  if (!isObject(topology) || !isObject(topology.config)) return undefined;
  const { layers, output_layers: outputs } = topology.config;
  if (!Array.isArray(layers) || layers.length !== 2 || !Array.isArray(outputs) || outputs.length !== 1) {
    return undefined;
  }
  const [input, sparse] = layers as unknown[];
  if (!isObject(input) || input.class_name !== 'InputLayer' || !isObject(input.config)) return undefined;
  if (!isObject(sparse) || sparse.class_name !== 'SparseFanIn' || !isObject(sparse.config)) return undefined;
  const shape = input.config.batch_input_shape;
  const { units, fan_in: fanIn } = sparse.config;
  const output = outputs[0];
  if (
    !Array.isArray(shape) ||
    shape.length !== 2 ||
    !Number.isInteger(shape[1]) ||
    !Number.isInteger(units) ||
    !Number.isInteger(fanIn) ||
    typeof sparse.name !== 'string' ||
    !Array.isArray(output) ||
    output[0] !== sparse.name
  ) {
    return undefined;
  }
  return { name: sparse.name, inputs: shape[1] as number, units: units as number, fanIn: fanIn as number };
}

function weightOf(values: Map<string, ArrayLike<number>>, name: string, size: number): ArrayLike<number> {
  const v = values.get(name);
  if (v === undefined || v.length !== size) {
    throw new BookrecError(
      'PACKAGE_INVALID',
      `${MODEL_FILE}: weight ${name} ${v === undefined ? 'is missing' : `has ${v.length} values, not ${size}`}`,
    );
  }
  return v;
}
