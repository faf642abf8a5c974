/** Runs and experiments: training from a config, loading runs, reports, condition monitoring (score, the PV-string simulator), semi-supervised experiments, the VAE-variants table. */
export * from './run.js';
export * from './report.js';
export * from './ssl.js';
export * from './potential.js';
export * from './estimator.js';
export * from './mnist-untapped.js';
export * from './vae-table.js';
export * from './real-nir.js';
export * from './monitor.js';
export * from './pv-plant.js';
