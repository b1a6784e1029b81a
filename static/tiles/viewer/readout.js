/**
 * The hover readout: depth, row, column and azimuth of the pixel under the
 * mouse at once, then its stored value from the pixel endpoint once the mouse
 * rests READOUT_DELAY_MS.
 * @module readout
 */

import {fetchPixel} from './api.js';
import {columnAzimuth} from './axis.js';

const READOUT_DELAY_MS = 120;

/**
 * The readout of a pixel, before its value.
 * @param {DepthAxis} axis @param {number} row @param {number} column
 * @param {number} columns - image columns. @param {string} unit - depth unit.
 * @returns {string} e.g. "Depth 9250.0 m · row 2499 · column 90 · azimuth 162.9°".
 */
export function pixelLabel(axis, row, column, columns, unit) {
  return 'Depth ' + axis.format(axis.rowToDepth(row)) + ' ' + unit +
    ' · row ' + row + ' · column ' + column + ' · azimuth ' + columnAzimuth(column, columns).toFixed(1) + '°';
}

/**
 * Follow the mouse over the map in the readout element.
 * @param {HTMLElement} readout - where the text goes.
 * @param {DepthMap} depthMap - the map (map.js).
 * @param {{pixel_url: string, columns: number, depth_unit: string}} config
 */
export function wireReadout(readout, depthMap, config) {
  const axis = depthMap.axis;
  let pending = null;
  let timer = null;

  function readValue(row, column, label) {
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    fetchPixel(config.pixel_url, row, column, pending.signal)
      .then((data) => {
        if (data) {
          const value = data.value === null ? 'nodata' : String(data.value);
          readout.textContent = label + ' · value ' + value;
        }
      })
      .catch((err) => {
        if (err.name !== 'AbortError') {
          readout.textContent = label;
        }
      });
  }

  depthMap.node.addEventListener('mousemove', (event) => {
    const {row, column} = depthMap.pixelAt(event.clientX, event.clientY);
    window.clearTimeout(timer);
    if (row < 0 || row >= axis.rows || column < 0 || column >= config.columns) {
      readout.textContent = '\u00a0';
      return;
    }
    const label = pixelLabel(axis, row, column, config.columns, config.depth_unit);
    readout.textContent = label;
    timer = window.setTimeout(() => readValue(row, column, label), READOUT_DELAY_MS);
  });
  depthMap.node.addEventListener('mouseleave', () => {
    window.clearTimeout(timer);
  });
}
