/**
 * Backend choice. Best first: `tensorflow` (tfjs-node, native; used only when the user has installed
 * `@tensorflow/tfjs-node` — it is not a dependency because its install downloads a binary), then
 * `wasm` (ships with the package), then `cpu` (pure JavaScript). The environment variable
 * `UNTAPPED_BACKEND` (or the `backend` option) forces one. The choice and the reasons for skipping
 * the better ones are returned, printed by `--verbose` and recorded in every run's log.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { installKernelFixes, matMulFixActive } from './kernels.js';
import { host } from './host.js';
import { installNativeKernels, nativeInfo, setNativeThreads, type NativeInfo } from './native.js';

/** Backends `untapped` knows how to start, best first. */
export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
/** One of {@link BACKENDS}. */
export type BackendName = (typeof BACKENDS)[number];

/** What {@link initEngine} chose and why. */
export interface EngineInfo {
  backend: BackendName;
  /** Why each better backend was skipped. */
  skipped: { backend: BackendName; reason: string }[];
  /** Whether the choice was forced by option or `UNTAPPED_BACKEND`. */
  forced: boolean;
  /** Kernel fixes active on the chosen backend. */
  fixes: string[];
  /** Versions of tfjs and Node (the host's runtime: `none` in a browser). */
  versions: { tfjs: string; node: string };
  /** SIMD / threads of the wasm backend, when it is the choice. */
  wasm?: { simd: boolean; threads: boolean };
  /** Native kernels (OpenBLAS): whether they run, and why not. */
  native: NativeInfo;
}

let current: EngineInfo | null = null;

async function tryBackend(name: BackendName, threads?: number): Promise<string | null> {
  try {
    if (name === 'tensorflow') {
      const modName = '@tensorflow/tfjs-node';
      await import(modName);
    }
    if (name === 'wasm') {
      installKernelFixes('wasm');
      installNativeKernels('wasm', { threads });
    }
    const ok = await tf.setBackend(name);
    if (!ok) return `tf.setBackend('${name}') returned false`;
    await tf.ready();
    return null;
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    if (name === 'tensorflow' && /Cannot find (module|package)/.test(msg)) return '@tensorflow/tfjs-node is not installed';
    return msg.split('\n')[0];
  }
}

/**
 * Starts the tensor engine once per process and returns what was chosen. Later calls return the
 * first choice unless a different backend is forced.
 * @param opts.backend force a backend (overrides `UNTAPPED_BACKEND`).
 * @param opts.threads native (OpenBLAS) threads; default `UNTAPPED_THREADS`, else all cores.
 */
export async function initEngine(opts: { backend?: string; threads?: number } = {}): Promise<EngineInfo> {
  const forcedName = opts.backend ?? host().env('UNTAPPED_BACKEND') ?? '';
  if (forcedName !== '' && !(BACKENDS as readonly string[]).includes(forcedName)) {
    throw new Error(`unknown backend '${forcedName}' (from ${opts.backend ? 'the backend option' : 'UNTAPPED_BACKEND'}); valid: ${BACKENDS.join(', ')}`);
  }
  if (current && (forcedName === '' || forcedName === current.backend)) {
    if (opts.threads !== undefined && current.backend === 'wasm') {
      setNativeThreads(opts.threads);
      current = { ...current, native: nativeInfo() };
    }
    return current;
  }
  const skipped: EngineInfo['skipped'] = [];
  const order: BackendName[] = forcedName !== '' ? [forcedName as BackendName] : [...BACKENDS];
  for (const name of order) {
    const why = await tryBackend(name, opts.threads);
    if (why === null) {
      current = {
        backend: name,
        skipped,
        forced: forcedName !== '',
        fixes: name === 'wasm' && matMulFixActive() ? ['wasm-transposed-matmul', 'wasm-shared-identity', 'wasm-block-tile'] : [],
        versions: { tfjs: tf.version_core, node: host().runtime },
        ...(name === 'wasm'
          ? { wasm: { simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), threads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') } }
          : {}),
        native: name === 'wasm' ? nativeInfo() : { active: false, reason: `native kernels run only on the wasm backend, not ${name}` },
      };
      return current;
    }
    skipped.push({ backend: name, reason: why });
  }
  throw new Error(`no tensor backend could start: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`);
}

/** The engine chosen by {@link initEngine}, or null before it ran. */
export function engineInfo(): EngineInfo | null {
  return current;
}

/** One line describing the engine, for `--verbose` and logs. */
export function describeEngine(info: EngineInfo): string {
  const parts = [`backend=${info.backend}${info.forced ? ' (forced)' : ''}`];
  if (info.wasm) parts.push(`simd=${info.wasm.simd}`, `threads=${info.wasm.threads}`);
  if (info.fixes.length) parts.push(`fixes=${info.fixes.join(',')}`);
  const n = info.native;
  parts.push(n.active ? `native=on (OpenBLAS, ${n.threads} threads: ${n.kernels?.join(',')} + Adam)` : `native=off (${n.reason})`);
  for (const s of info.skipped) parts.push(`skipped ${s.backend}: ${s.reason}`);
  parts.push(`tfjs ${info.versions.tfjs}`, `node ${info.versions.node}`);
  return parts.join('; ');
}
