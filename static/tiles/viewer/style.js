/**
 * The colours of the tiles: colormap, reverse, and the min/max value range, as
 * the tile, region and thumbnail endpoints take them (palette, min, max).
 * Pure: no DOM.
 * @module style
 */

import {niceStep} from './ticks.js';

/** Plain grey: tiles drawn without a palette. */
export const DEFAULT_COLORMAP = 'gray';

const isNumber = (v) => v !== null && v !== undefined && Number.isFinite(v);
const firstNumber = (...values) => values.find(isNumber);

/**
 * The value range of an image, for the min/max controls.
 * uint8: sliders 0..255, default 0..255 (the stored values as they are).
 * float32: sliders over value_min..value_max, default the 2nd..98th percentiles
 * (what the server uses without min/max), in about 1000 steps.
 *
 * @param {{dtype: string, value_min: ?number, value_max: ?number,
 *   value_p2: ?number, value_p98: ?number}} config - the page configuration.
 * @returns {{low: number, high: number, spanLow: number, spanHigh: number,
 *   step: number, format: function(number): string}} the default range, the
 *   sliders' span and step, and how a value is written (the step's decimals).
 */
export function valueScale(config) {
  const isFloat = config.dtype === 'float32';
  const low = isFloat ? firstNumber(config.value_p2, config.value_min, 0) : 0;
  let high = isFloat ? firstNumber(config.value_p98, config.value_max, low + 1) : 255;
  if (high <= low) {
    high = low + 1;
  }
  const spanLow = Math.min(low, firstNumber(config.value_min, low));
  const spanHigh = Math.max(high, firstNumber(config.value_max, high));
  const nice = isFloat ? niceStep((spanHigh - spanLow) / 1000) : {step: 1, decimals: 0};
  return {
    low: low,
    high: high,
    spanLow: spanLow,
    spanHigh: spanHigh,
    step: nice.step,
    format: (v) => String(Number(v.toFixed(nice.decimals))),
  };
}

/**
 * The colormaps offered: every name of /api/v1/colormaps, except a "<name>_r"
 * whose "<name>" is also there (the Reverse box draws it).
 *
 * @param {Array<{name: string, legend_url: string, featured: boolean}>} list -
 *   the answer of /api/v1/colormaps.
 * @returns {{names: Set<string>, legends: Map<string, string>,
 *   choices: Array<Object>, reversed: function(string): ?string}} every name,
 *   each one's legend URL, the choices for the select, and the reverse of a
 *   name (null when it has none).
 */
export function colormapCatalogue(list) {
  const names = new Set(list.map((c) => c.name));
  const legends = new Map(list.map((c) => [c.name, c.legend_url]));
  const isReversal = (name) => name.endsWith('_r') && names.has(name.slice(0, -2));
  const choices = list.filter((c) => !isReversal(c.name));
  const reversed = (name) => {
    if (isReversal(name)) {
      return name.slice(0, -2);
    }
    return names.has(name + '_r') ? name + '_r' : null;
  };
  return {names: names, legends: legends, choices: choices, reversed: reversed};
}

/** The colours chosen: a colormap of the select, reversed or not, and a value range. */
export class TileStyle {
  /**
   * @param {Object} catalogue - colormapCatalogue()'s answer.
   * @param {Object} scale - valueScale()'s answer.
   * @param {{colormap: ?string, reverse: boolean, min: ?number, max: ?number}} wanted -
   *   the view state of the page address (url-state.js); an unknown colormap is
   *   ignored, and a reversed name ("viridis_r") is read as its base name reversed.
   */
  constructor(catalogue, scale, wanted) {
    this.catalogue = catalogue;
    this.scale = scale;
    this.colormap = DEFAULT_COLORMAP;  // the name chosen in the select
    this.reverse = wanted.reverse;
    this.min = scale.low;
    this.max = scale.high;
    if (wanted.colormap && catalogue.names.has(wanted.colormap)) {
      const reversal = catalogue.reversed(wanted.colormap);
      const isReversal = reversal !== null && !catalogue.choices.some((c) => c.name === wanted.colormap);
      this.colormap = isReversal ? reversal : wanted.colormap;
      this.reverse = isReversal !== wanted.reverse;
    }
    if (wanted.min !== null && wanted.max !== null && wanted.min <= wanted.max) {
      this.min = wanted.min;
      this.max = wanted.max;
    }
  }

  /** @returns {string} the colormap drawn: the chosen one, or its reverse. */
  drawn() {
    const reversal = this.reverse ? this.catalogue.reversed(this.colormap) : null;
    return reversal || this.colormap;
  }

  /** @returns {boolean} whether the chosen colormap can be reversed. */
  canReverse() {
    return this.catalogue.reversed(this.colormap) !== null;
  }

  /** @returns {boolean} min and max are the defaults (as written). */
  rangeIsDefault() {
    const f = this.scale.format;
    return f(this.min) === f(this.scale.low) && f(this.max) === f(this.scale.high);
  }

  /**
   * Set min or max, keeping min <= max by moving the other one along (the API
   * refuses min > max).
   * @param {'min'|'max'} key @param {number} value
   */
  setBound(key, value) {
    this[key] = value;
    if (this.min > this.max) {
      if (key === 'min') {
        this.max = this.min;
      } else {
        this.min = this.max;
      }
    }
  }

  /** Back to the default value range. */
  resetRange() {
    this.min = this.scale.low;
    this.max = this.scale.high;
  }

  /**
   * @returns {URLSearchParams} palette, min and max as the tile, region and
   *   thumbnail endpoints take them; empty for the defaults.
   */
  query() {
    const query = new URLSearchParams();
    const name = this.drawn();
    if (name !== DEFAULT_COLORMAP) {
      query.set('palette', name);
    }
    if (!this.rangeIsDefault()) {
      query.set('min', this.scale.format(this.min));
      query.set('max', this.scale.format(this.max));
    }
    return query;
  }
}
