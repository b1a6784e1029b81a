/**
 * Tick arithmetic for the depth track and the value sliders. Pure: no DOM.
 * @module ticks
 */

/**
 * Decimals needed to write a step such as 0.1 or 0.5 exactly.
 *
 * Float noise is forgiven (0.09999999999999994 -> 1); a step that no power of
 * ten up to 10^6 makes whole (1/3) gets 6.
 *
 * @param {number} step - a positive step, e.g. a depth step in the log's unit.
 * @returns {number} decimals, 0..6.
 */
export function decimalsOf(step) {
  for (let d = 0; d <= 6; d += 1) {
    const scaled = step * Math.pow(10, d);
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) {
      return d;
    }
  }
  return 6;
}

/**
 * The smallest "nice" step (1, 2 or 5 x 10^k) not below minStep.
 *
 * @param {number} minStep - the smallest acceptable step (> 0), e.g. the depth
 *   spanned by the minimum spacing between two labels.
 * @returns {{step: number, decimals: number, minor: number}} the step, the
 *   decimals that label any multiple of it, and the number of minor intervals
 *   per major one (4 for a step of 2 x 10^k, else 5).
 */
export function niceStep(minStep) {
  let exp = Math.floor(Math.log10(minStep));
  let mantissa = [1, 2, 5].find((m) => m * Math.pow(10, exp) >= minStep * (1 - 1e-9));
  if (mantissa === undefined) {
    mantissa = 1;
    exp += 1;
  }
  return {
    step: mantissa * Math.pow(10, exp),
    decimals: Math.max(0, -exp),
    minor: mantissa === 2 ? 4 : 5,
  };
}

/**
 * The multiples k * step within [first, last], ascending; a bound that is a
 * multiple up to float noise (1e-9) is included.
 *
 * @param {number} first - low end, e.g. a depth.
 * @param {number} last - high end.
 * @param {number} step - spacing (> 0).
 * @returns {number[]} the multiples, empty for an empty range or a step that
 *   is not a positive finite number.
 */
export function multiplesIn(first, last, step) {
  const values = [];
  if (!(step > 0) || !Number.isFinite(step) || !Number.isFinite(first) || !Number.isFinite(last)) {
    return values;
  }
  for (let k = Math.ceil(first / step - 1e-9); k * step <= last + 1e-9; k += 1) {
    values.push(k * step + 0);  // + 0: -0 (k = ceil(-1e-9)) is 0
  }
  return values;
}
