/** Training: Adam with clipping, the multi-source trainer, progress display. */
export * from './adam.js';
export * from './trainer.js';
export * from './progress.js';
