/** Model families and their registry. */
export * from './vae.js';
export * from './registry.js';
export * from './ssl.js';
export * from './enumerate.js';
export * from './avae.js';
export * from './semi2.js';
export * from './family.js';
export * from './families.js';
export * from './semi2-runnable.js';
export * from './standardize.js';
export * from './lvae.js';
export * from './cagem.js';
