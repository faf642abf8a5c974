/** Networks: parameter store, dense layers and MLPs, stochastic heads. */
export * from './params.js';
export * from './layers.js';
export * from './heads.js';
