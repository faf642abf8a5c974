/**
 * The Node host, registered when this module is imported: by the Node entry `untapped/node`, the
 * CLI, the test helpers and `data.ts`, so that any use of the Node side registers it: environment variables from `process.env`,
 * progress and warnings on `process.stderr`, the native kernels' addon (`@untapped/native`, loaded
 * with `require`), and the file system as the trainer's storage.
 */
import os from 'node:os';
import { createRequire } from 'node:module';
import { setHost, type Host } from '../engine/host.js';
import type { NativeAddon } from '../engine/native.js';
import { fileStorage } from './files.js';

/** The host of a Node process. */
export const nodeHost: Host = {
  env: (name: string) => process.env[name],
  runtime: process.version,
  cores: () => os.availableParallelism(),
  get stderr() {
    return process.stderr;
  },
  loadNative: () => createRequire(import.meta.url)('@untapped/native') as NativeAddon,
  // a getter: files.ts imports this module (so that any use of the Node side registers the host)
  get storage() {
    return fileStorage;
  },
};

setHost(nodeHost);
