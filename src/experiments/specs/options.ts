/**
 * Option pieces shared by the experiment specs. Each is a zod schema whose description is the help
 * text of its flag; a refinement's message completes "--flag …, got VALUE".
 */
import { z } from 'zod';

/** Epochs per model (an experiment may give the unit another meaning in `describe`). */
export const budgetEpochs = (def: number, what = 'epochs per model') => z.number().int().min(1).default(def).describe(what);
export const budgetMinutes = () => z.number().positive('must be > 0').optional().describe('stop each model after this many minutes of training (checked per epoch)');
export const seed = () => z.number().int().min(0).default(0).describe('seed');
export const seeds = () => z.number().int().min(1).default(5).describe('number of seeds (each trains every model)');
export const trainLimit = (what = 'use only the first n training images as unlabelled data (quick runs)') => z.number().int().min(1).optional().describe(what);
export const models = () =>
  z
    .string()
    .refine((v) => v.split(',').every((m) => ['m2', 'untapped'].includes(m.trim())), 'must be a comma-separated list of m2 and untapped')
    .optional()
    .describe('comma-separated models to train (default both: m2,untapped)');
export const alphaRWarmup = () => z.number().min(0, 'must be a number of epochs ≥ 0').default(0).describe('epochs of linear warm-up of α_r for the untapped model');

/** A comma-separated list option as its trimmed items. */
export const list = (v: string): string[] => v.split(',').map((s) => s.trim());

/** `budgetMinutes` in seconds (undefined stays undefined). */
export const seconds = (minutes: number | undefined): number | undefined => (minutes ? minutes * 60 : undefined);
