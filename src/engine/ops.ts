/** Numeric constants shared by distributions, objectives and models. */

/** log(2π). */
export const LOG_2PI = Math.log(2 * Math.PI);
