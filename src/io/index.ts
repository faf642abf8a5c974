/** File formats: the `.utp` tensor container and atomic writes. */
export * from './format.js';
