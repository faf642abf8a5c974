/**
 * Registers every paper experiment (one line each); importing this module fills the registry of
 * `../registry.ts`. The order is the order of `untapped experiment --help`.
 */
import { registerExperiment } from '../registry.js';
import { moonsAdgm } from './moons-adgm.js';
import { mnist100Adgm, mnist100M1M2Spec, mnist100M2, mnist100Sdgm } from './mnist100.js';
import { potentialAvae } from './potential-avae.js';
import { mnistUntapped } from './mnist-untapped.js';
import { crism } from './crism.js';
import { libs } from './libs.js';
import { realNir } from './real-nir.js';
import { vaeTable } from './vae-table.js';
import { pvMonitoring } from './pv-monitoring.js';
import { cagem, lvaeTable } from './deep-generative.js';

registerExperiment(moonsAdgm);
registerExperiment(mnist100M2);
registerExperiment(mnist100Adgm);
registerExperiment(mnist100Sdgm);
registerExperiment(mnist100M1M2Spec);
registerExperiment(potentialAvae);
registerExperiment(mnistUntapped);
registerExperiment(crism);
registerExperiment(libs);
registerExperiment(realNir);
registerExperiment(vaeTable);
registerExperiment(pvMonitoring);
registerExperiment(lvaeTable);
registerExperiment(cagem);

export { experimentNames, getExperiment, runExperiment, flagName, type AnyExperimentSpec, type ExperimentContext } from '../registry.js';
