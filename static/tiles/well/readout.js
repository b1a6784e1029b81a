/**
 * The readout of the cursor line, per track: the texts, from numbers already
 * looked up. Pure: no DOM.
 * @module readout
 */

import {columnAzimuth} from '../viewer/axis.js';

/**
 * A value written with about four significant figures (an integer as it is).
 * @param {?number} value @returns {string} "nodata" for null.
 */
export function formatValue(value) {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return 'nodata';
  }
  if (Number.isInteger(value)) {
    return String(value);
  }
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e6 || magnitude < 1e-3)) {
    return value.toExponential(3);
  }
  return String(Number(value.toPrecision(4)));
}

/**
 * An image track's readout.
 * @param {{column: number, columns: number, value: (?number|undefined), unit: string}} pixel -
 *   the column (sector, 0 the first) under the cursor, the image's columns, the
 *   stored value (undefined: not fetched yet; null: nodata) and its unit ("" unknown).
 * @returns {string} e.g. "sector 90 · 162.9° · 123 gAPI".
 */
export function imageReadout({column, columns, value, unit}) {
  const head = 'sector ' + column + ' · ' + columnAzimuth(column, columns).toFixed(1) + '°';
  if (value === undefined) {
    return head;
  }
  const text = formatValue(value);
  return head + ' · ' + (value === null || !unit ? text : text + ' ' + unit);
}

/**
 * A curve's readout.
 * @param {string} mnemonic @param {?number} value - null: nodata or no sample near.
 * @param {string} unit @returns {string} e.g. "GR 85.31 gAPI".
 */
export function curveReadout(mnemonic, value, unit) {
  const text = formatValue(value);
  return mnemonic + ' ' + (value === null || !unit ? text : text + ' ' + unit);
}
