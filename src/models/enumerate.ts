/**
 * Exact summation over a discrete label y as one K× batch: the layout helpers now live with the
 * objectives that use them (`objectives/enumerate.ts`); re-exported here for existing imports.
 */
export { enumerateClasses, enumeratedLabels, perClass, type Enumerated } from '../objectives/enumerate.js';
