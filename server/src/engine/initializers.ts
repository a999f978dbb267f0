/**
 * Seeded initial values for the weights of a LayersModel that has none stored (the built-in
 * ResNet, or a user's topology without weight files), following the initializer its config
 * names, as Keras defines it. tfjs-layers' own initializers draw from an unseeded generator; ours
 * draw from `Rng`, so the same seed gives the same model.
 */
import type { Rng } from '../data/random';

type Config = Record<string, unknown>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keras' fans of a kernel shape: the last two axes times the receptive field of the others. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: shape[0]! };
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[shape.length - 2]! * receptive, fanOut: shape[shape.length - 1]! * receptive };
}

/** Normal draws cut at two standard deviations (TF's truncated normal). */
function truncatedNormal(rng: Rng): number {
  for (;;) {
    const v = rng.normal();
    if (Math.abs(v) <= 2) return v;
  }
}

interface Initializer {
  name: string;
  config: Config;
}

const ALIASES: Record<string, Initializer> = {
  glorot_uniform: { name: 'VarianceScaling', config: { scale: 1, mode: 'fan_avg', distribution: 'uniform' } },
  glorotuniform: { name: 'VarianceScaling', config: { scale: 1, mode: 'fan_avg', distribution: 'uniform' } },
  glorot_normal: { name: 'VarianceScaling', config: { scale: 1, mode: 'fan_avg', distribution: 'truncated_normal' } },
  glorotnormal: { name: 'VarianceScaling', config: { scale: 1, mode: 'fan_avg', distribution: 'truncated_normal' } },
  he_normal: { name: 'VarianceScaling', config: { scale: 2, mode: 'fan_in', distribution: 'truncated_normal' } },
  henormal: { name: 'VarianceScaling', config: { scale: 2, mode: 'fan_in', distribution: 'truncated_normal' } },
  he_uniform: { name: 'VarianceScaling', config: { scale: 2, mode: 'fan_in', distribution: 'uniform' } },
  heuniform: { name: 'VarianceScaling', config: { scale: 2, mode: 'fan_in', distribution: 'uniform' } },
  lecun_normal: { name: 'VarianceScaling', config: { scale: 1, mode: 'fan_in', distribution: 'truncated_normal' } },
  lecunnormal: { name: 'VarianceScaling', config: { scale: 1, mode: 'fan_in', distribution: 'truncated_normal' } },
  lecun_uniform: { name: 'VarianceScaling', config: { scale: 1, mode: 'fan_in', distribution: 'uniform' } },
  lecununiform: { name: 'VarianceScaling', config: { scale: 1, mode: 'fan_in', distribution: 'uniform' } },
};

function normalise(spec: unknown, fallback: string): Initializer {
  const raw = spec ?? fallback;
  const name =
    typeof raw === 'string'
      ? raw
      : isRecord(raw) && typeof raw['class_name'] === 'string'
        ? raw['class_name']
        : fallback;
  const config = isRecord(raw) && isRecord(raw['config']) ? raw['config'] : {};
  const alias = ALIASES[name.toLowerCase()] ?? ALIASES[name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()];
  return alias ? { name: alias.name, config: { ...alias.config, ...config } } : { name, config };
}

const num = (v: unknown, fallback: number) => (typeof v === 'number' ? v : fallback);

/**
 * Values for a weight of `shape` drawn as the initializer `spec` (a Keras config entry or name)
 * says; unknown initializers fall back to `fallback`'s rule.
 */
export function initialValues(spec: unknown, fallback: string, shape: readonly number[], rng: Rng): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const init = normalise(spec, fallback);
  const c = init.config;
  switch (init.name.replace(/_/g, '').toLowerCase()) {
    case 'zeros':
      return out;
    case 'ones':
      return out.fill(1);
    case 'constant':
      return out.fill(num(c['value'], 0));
    case 'randomuniform': {
      const [lo, hi] = [num(c['minval'], -0.05), num(c['maxval'], 0.05)];
      for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng.next();
      return out;
    }
    case 'randomnormal': {
      const [mean, std] = [num(c['mean'], 0), num(c['stddev'], 0.05)];
      for (let i = 0; i < n; i++) out[i] = mean + std * rng.normal();
      return out;
    }
    case 'truncatednormal': {
      const [mean, std] = [num(c['mean'], 0), num(c['stddev'], 0.05)];
      for (let i = 0; i < n; i++) out[i] = mean + std * truncatedNormal(rng);
      return out;
    }
    case 'variancescaling': {
      const { fanIn, fanOut } = fans(shape);
      const mode = c['mode'] === 'fan_out' ? fanOut : c['mode'] === 'fan_avg' ? (fanIn + fanOut) / 2 : fanIn;
      const variance = num(c['scale'], 1) / Math.max(1, mode);
      const distribution = typeof c['distribution'] === 'string' ? c['distribution'] : 'truncated_normal';
      if (distribution === 'uniform') {
        const limit = Math.sqrt(3 * variance);
        for (let i = 0; i < n; i++) out[i] = (2 * rng.next() - 1) * limit;
      } else if (distribution === 'untruncated_normal') {
        const std = Math.sqrt(variance);
        for (let i = 0; i < n; i++) out[i] = std * rng.normal();
      } else {
        // `normal` means truncated in Keras 2: the cut distribution's deviation is 0.8796 of the uncut one.
        const std = Math.sqrt(variance) / 0.8796256610342398;
        for (let i = 0; i < n; i++) out[i] = std * truncatedNormal(rng);
      }
      return out;
    }
    default:
      return fallback === init.name ? out : initialValues(undefined, fallback, shape, rng);
  }
}

/** The initializer a layer's config names for one of its weights, with Keras' default. */
export function initializerOf(config: Config, weight: string): { spec: unknown; fallback: string } {
  switch (weight) {
    case 'kernel':
      return { spec: config['kernel_initializer'] ?? config['kernelInitializer'], fallback: 'glorot_uniform' };
    case 'depthwise_kernel':
      return { spec: config['depthwise_initializer'] ?? config['depthwiseInitializer'], fallback: 'glorot_uniform' };
    case 'pointwise_kernel':
      return { spec: config['pointwise_initializer'] ?? config['pointwiseInitializer'], fallback: 'glorot_uniform' };
    case 'bias':
      return { spec: config['bias_initializer'] ?? config['biasInitializer'], fallback: 'zeros' };
    case 'gamma':
      return { spec: config['gamma_initializer'] ?? config['gammaInitializer'], fallback: 'ones' };
    case 'beta':
      return { spec: config['beta_initializer'] ?? config['betaInitializer'], fallback: 'zeros' };
    case 'moving_mean':
      return { spec: config['moving_mean_initializer'] ?? config['movingMeanInitializer'], fallback: 'zeros' };
    case 'moving_variance':
      return { spec: config['moving_variance_initializer'] ?? config['movingVarianceInitializer'], fallback: 'ones' };
    case 'embeddings':
      return { spec: config['embeddings_initializer'] ?? config['embeddingsInitializer'], fallback: 'random_uniform' };
    default:
      return { spec: undefined, fallback: 'zeros' };
  }
}
