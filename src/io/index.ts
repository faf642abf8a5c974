/** Formats: the `.utp` tensor container (bytes), numeric tables parsed from CSV / JSON / NPY, the storage interface, SHA-256. Files are the Node entry's. */
export * from './format.js';
export * from './table.js';
export * from './storage.js';
export * from './sha256.js';
