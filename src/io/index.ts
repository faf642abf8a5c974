/** File formats: the `.utp` tensor container, atomic writes, and numeric tables from CSV / JSON / NPY files. */
export * from './format.js';
export * from './table.js';
export * from './lock.js';
export * from './replace.js';
