/** Networks: parameter store, dense layers and MLPs, stochastic heads, convolutions and batch norm. */
export * from './params.js';
export * from './layers.js';
export * from './heads.js';
export * from './conv.js';
