/**
 * The view state in the page address, so a link or a reload reopens the view:
 * ?depth=&zoom=&colormap=&reverse=1&min=&max=&stretch=
 * Pure: works on query strings.
 * @module url-state
 */

import {DEFAULT_COLORMAP} from './style.js';
import {STRETCHES} from './view.js';

/**
 * Read the view state of a query string. A value that is missing, empty or not
 * a finite number is null; so is a stretch that is not one of STRETCHES, and
 * min/max unless both are there with min <= max.
 *
 * @param {string} search - the page address's query, with or without "?".
 * @returns {{depth: ?number, zoom: ?number, colormap: ?string, reverse: boolean,
 *   min: ?number, max: ?number, stretch: ?number}} depth in the log's unit (the
 *   middle of the view), GeoJS zoom, colormap name (not checked here), reverse,
 *   value range, horizontal stretch.
 */
export function readViewState(search) {
  const query = new URLSearchParams(search);
  const number = (name) => {
    const text = query.get(name);
    const value = text === null || text.trim() === '' ? NaN : Number(text);
    return Number.isFinite(value) ? value : null;
  };
  const min = number('min');
  const max = number('max');
  const range = min !== null && max !== null && min <= max;
  const stretch = number('stretch');
  const colormap = query.get('colormap');
  return {
    depth: number('depth'),
    zoom: number('zoom'),
    colormap: colormap === null || colormap === '' ? null : colormap,
    reverse: query.get('reverse') === '1',
    min: range ? min : null,
    max: range ? max : null,
    stretch: STRETCHES.includes(stretch) ? stretch : null,
  };
}

/**
 * Write a view state into a query string, keeping its other parameters. The
 * default colormap, no reverse and the default range (min/max null) are left out.
 *
 * @param {string} search - the current query, with or without "?".
 * @param {{depth: number, depthDecimals: number, zoom: number, colormap: string,
 *   reverse: boolean, min: ?string, max: ?string, stretch: number}} view - the
 *   middle depth and the decimals to write it with, the GeoJS zoom (written
 *   with 3 decimals), the colormap chosen, reverse, min/max as written (null:
 *   the default range) and the stretch.
 * @returns {string} the new query: "" or "?" followed by the parameters.
 */
export function writeViewState(search, view) {
  const query = new URLSearchParams(search);
  const put = (name, value, isDefault) => (isDefault ? query.delete(name) : query.set(name, value));
  query.set('depth', String(Number(view.depth.toFixed(view.depthDecimals))));
  query.set('zoom', view.zoom.toFixed(3));
  put('colormap', view.colormap, view.colormap === DEFAULT_COLORMAP);
  put('reverse', '1', !view.reverse);
  put('min', view.min, view.min === null);
  put('max', view.max, view.max === null);
  query.set('stretch', String(view.stretch));
  const text = query.toString();
  return text ? '?' + text : '';
}
