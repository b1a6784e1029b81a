/**
 * Curve tracks: the horizontal scale of a curve (left/right limits, linear or
 * logarithmic), its path on screen, the fill to a baseline, the value nearest a
 * depth, and when to ask the server again. Pure: no DOM.
 *
 * The curves API (COMMON.md, "Wells API") answers depths and values (null for
 * nodata) of a depth range, decimated by min/max per depth bin to max_points.
 * @module curves
 */

import {niceStep} from '../viewer/ticks.js';

/** Colours given to the curves of a track in turn (colour-blind safe, Okabe-Ito). */
export const CURVE_COLOURS = Object.freeze(['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9']);
/** Mnemonics read on a logarithmic scale by default (resistivities, permeability). */
const LOG_MNEMONICS = /^(RES|RT|RXO|RD|RS|RM|ILD|ILM|IMPH|IDPH|LLD|LLS|MSFL|AT\d|AHT|RLA|HDRS|HMRS|PERM|K$)/i;
/** The server's bound of max_points. */
export const MAX_POINTS_BOUNDS = Object.freeze({min: 2, max: 100000});

/**
 * The horizontal scale of a curve in a track.
 * @param {{left: number, right: number, log: boolean}} limits - the values at the
 *   track's left and right edges (left > right runs the scale backwards); log:
 *   logarithmic, both limits > 0.
 * @returns {?function(number, number): number} value, width -> screen x (CSS
 *   px, unclamped; NaN for a value a log scale cannot show); null for limits
 *   that are not a scale (equal, not finite, <= 0 on a log scale).
 */
export function curveScale({left, right, log}) {
  if (!Number.isFinite(left) || !Number.isFinite(right) || left === right) {
    return null;
  }
  if (log) {
    if (!(left > 0 && right > 0)) {
      return null;
    }
    const a = Math.log10(left);
    const span = Math.log10(right) - a;
    return (value, width) => (value > 0 ? (Math.log10(value) - a) / span * width : NaN);
  }
  return (value, width) => (value - left) / (right - left) * width;
}

/**
 * The value at a screen x: the inverse of curveScale's function.
 * @param {{left: number, right: number, log: boolean}} limits
 * @param {number} x @param {number} width @returns {number}
 */
export function valueAtX({left, right, log}, x, width) {
  const f = x / width;
  return log ? Math.pow(10, Math.log10(left) + f * (Math.log10(right) - Math.log10(left))) : left + f * (right - left);
}

/**
 * The screen path of a curve: runs of points, broken at nodata (null values)
 * and at values a log scale cannot show; x clamped to the track (a value past a
 * limit runs along the edge).
 *
 * @param {number[]} depths - ascending, the depth unit. @param {Array<?number>} values
 * @param {function(number, number): number} scale - curveScale's function.
 * @param {function(number): number} depthToY - screen y of a depth (CSS px).
 * @param {number} width - track width (CSS px).
 * @returns {Array<Array<[number, number]>>} runs of [x, y].
 */
export function curvePath(depths, values, scale, depthToY, width) {
  const runs = [];
  let run = [];
  for (let i = 0; i < depths.length; i += 1) {
    const value = values[i];
    const x = value === null || value === undefined ? NaN : scale(value, width);
    if (Number.isNaN(x)) {
      if (run.length) {
        runs.push(run);
      }
      run = [];
      continue;
    }
    run.push([Math.min(width, Math.max(0, x)), depthToY(depths[i])]);
  }
  if (run.length) {
    runs.push(run);
  }
  return runs;
}

/**
 * The polygon that fills between a run and a baseline value.
 * @param {Array<[number, number]>} run - curvePath's run.
 * @param {number} baselineX - screen x of the baseline (clamped to the track).
 * @returns {Array<[number, number]>} closed polygon (first point repeated last).
 */
export function fillPolygon(run, baselineX) {
  if (!run.length) {
    return [];
  }
  const first = run[0];
  const last = run[run.length - 1];
  return [[baselineX, first[1]], ...run, [baselineX, last[1]], [baselineX, first[1]]];
}

/**
 * Index of the sample nearest a depth (binary search).
 * @param {number[]} depths - ascending. @param {number} depth
 * @returns {number} index, -1 for no samples.
 */
export function nearestIndex(depths, depth) {
  if (!depths.length) {
    return -1;
  }
  let lo = 0;
  let hi = depths.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (depths[mid] <= depth) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return Math.abs(depths[hi] - depth) < Math.abs(depths[lo] - depth) ? hi : lo;
}

/**
 * The value of a curve nearest a depth, if a sample lies within maxGap of it.
 * @param {{depth: number[], value: Array<?number>}} data - the API's answer.
 * @param {number} depth @param {number} maxGap - depth unit.
 * @returns {?number} null: no sample near, or nodata.
 */
export function valueAt(data, depth, maxGap) {
  const i = nearestIndex(data.depth, depth);
  if (i < 0 || Math.abs(data.depth[i] - depth) > maxGap) {
    return null;
  }
  const value = data.value[i];
  return value === undefined ? null : value;
}

/**
 * What to ask the server for a view: the range in view with half a view's
 * margin above and below, and about two points per CSS px of it (the server's
 * min/max decimation keeps two samples per depth bin).
 * @param {number} top - depth at the track's top edge. @param {number} bottom - at its bottom edge.
 * @param {number} height - CSS px.
 * @returns {{depthMin: number, depthMax: number, maxPoints: number}}
 */
export function fetchPlan(top, bottom, height) {
  const span = bottom - top;
  const maxPoints = Math.round(Math.min(MAX_POINTS_BOUNDS.max, Math.max(MAX_POINTS_BOUNDS.min, height * 2 * 2)));
  return {depthMin: top - span / 2, depthMax: bottom + span / 2, maxPoints: maxPoints};
}

/**
 * Whether data already fetched serves a view: it covers the range in view, and
 * it is not decimated more coarsely than a point per CSS px there.
 * @param {?{depthMin: number, depthMax: number, decimated: boolean,
 *   pointsPerUnit: number}} have - what was fetched (pointsPerUnit: points per
 *   depth unit in the answer).
 * @param {number} top @param {number} bottom @param {number} height - CSS px.
 * @returns {boolean}
 */
export function covers(have, top, bottom, height) {
  if (!have || top < have.depthMin || bottom > have.depthMax) {
    return false;
  }
  return !have.decimated || have.pointsPerUnit * (bottom - top) >= height;
}

/**
 * Default limits of a curve: its value range rounded out to nice steps, or a
 * decade range on a log scale for a resistivity-like mnemonic.
 * @param {{mnemonic: string, value_min: ?number, value_max: ?number}} curve
 * @returns {{left: number, right: number, log: boolean}}
 */
export function defaultLimits(curve) {
  const low = Number.isFinite(curve.value_min) ? curve.value_min : 0;
  let high = Number.isFinite(curve.value_max) ? curve.value_max : low + 1;
  if (high <= low) {
    high = low + 1;
  }
  if (LOG_MNEMONICS.test(curve.mnemonic) && low > 0) {
    return {left: Math.pow(10, Math.floor(Math.log10(low))), right: Math.pow(10, Math.ceil(Math.log10(high))), log: true};
  }
  const step = niceStep((high - low) / 5).step;
  return {left: Math.floor(low / step) * step, right: Math.ceil(high / step) * step, log: false};
}

/**
 * Labels of a log scale's decades between two limits, for the header and grid.
 * @param {number} left @param {number} right - > 0.
 * @returns {number[]} the powers of ten within, ascending.
 */
export function decades(left, right) {
  const lo = Math.min(left, right);
  const hi = Math.max(left, right);
  const out = [];
  for (let k = Math.ceil(Math.log10(lo) - 1e-9); Math.pow(10, k) <= hi * (1 + 1e-9); k += 1) {
    out.push(Math.pow(10, k));
  }
  return out;
}
