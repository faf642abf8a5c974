/** Runs and experiments: training from a config, loading runs, reports. */
export * from './run.js';
export * from './report.js';
