/** Configuration schemas and validation. */
export * from './validate.js';
export * from './run.js';
