/**
 * The toolbar: colour controls (colormap with its legend, reverse, min/max
 * sliders and boxes, reset) and navigation (go to a depth, whole log, stretch).
 * @module controls
 */

import {DEFAULT_COLORMAP} from './style.js';
import {STRETCHES} from './view.js';

/** Sliders redraw the tiles once they pause this long (ms). */
const SLIDER_DELAY_MS = 200;
/** The default grey is drawn without a palette: its legend is black to white.
 * (The API's own gray.png is black to mid-grey: "gray" reads as the CSS colour.) */
const GREY_LEGEND = '/api/v1/colormaps/' + encodeURIComponent('#000,#fff') + '.png';

const el = (id) => document.getElementById(id);

/** The colour controls, bound to a TileStyle. */
export class ColourControls {
  /**
   * Fill the colormap select and wire every colour control.
   * @param {TileStyle} style - the colours (style.js), changed by the controls.
   * @param {function()} onApply - redraws the tiles with the style's colours.
   */
  constructor(style, onApply) {
    this.style = style;
    this.onApply = onApply;
    this.timer = null;
    this.select = el('colormap');
    this.reverseBox = el('reverse');
    this.legend = el('colormap-legend');
    this.bounds = {
      min: {range: el('min-range'), number: el('min-value'), label: el('legend-min')},
      max: {range: el('max-range'), number: el('max-value'), label: el('legend-max')},
    };

    this.wireColormap();
    for (const key of ['min', 'max']) {
      this.wireBound(key);
    }
    el('range-reset').addEventListener('click', () => {
      style.resetRange();
      this.apply();
    });
  }

  /** The colormap select (featured ones first) and the Reverse box. */
  wireColormap() {
    const style = this.style;
    const featured = document.createElement('optgroup');
    featured.label = 'Borehole and common';
    const others = document.createElement('optgroup');
    others.label = 'All colormaps';
    for (const choice of style.catalogue.choices) {
      (choice.featured ? featured : others).appendChild(new Option(choice.name, choice.name));
    }
    this.select.append(featured, others);
    this.select.value = style.colormap;
    this.select.addEventListener('change', () => {
      style.colormap = this.select.value;
      this.apply();
    });
    this.reverseBox.addEventListener('change', () => {
      style.reverse = this.reverseBox.checked;
      this.apply();
    });
  }

  /**
   * The slider and the box of min or max: the slider redraws once it pauses, the
   * box once a number is entered (anything else puts the value back).
   * @param {'min'|'max'} key
   */
  wireBound(key) {
    const style = this.style;
    const scale = style.scale;
    const {range, number} = this.bounds[key];
    Object.assign(range, {min: scale.spanLow, max: scale.spanHigh, step: scale.step});
    range.title = 'Values in the log: ' + scale.format(scale.spanLow) + ' to ' + scale.format(scale.spanHigh);
    range.addEventListener('input', () => {
      style.setBound(key, Number(range.value));
      this.applySoon();
    });
    range.addEventListener('change', () => this.apply());
    number.addEventListener('change', () => {
      const value = Number(number.value);
      if (number.value.trim() !== '' && Number.isFinite(value)) {
        style.setBound(key, value);
      }
      number.value = scale.format(style[key]);
      this.apply();
    });
  }

  /** Show the style in the controls: legend, reverse box, min and max. */
  show() {
    const style = this.style;
    const name = style.drawn();
    const legendSource = name === DEFAULT_COLORMAP ? GREY_LEGEND : style.catalogue.legends.get(name);
    const legendUrl = new URL(legendSource, window.location.href);
    legendUrl.search = new URLSearchParams({width: '160', height: '14'}).toString();
    if (this.legend.getAttribute('src') !== legendUrl.href) {
      this.legend.src = legendUrl.href;
    }
    this.legend.alt = 'Legend of ' + name;
    this.legend.dataset.colormap = name;
    this.reverseBox.disabled = !style.canReverse();
    this.reverseBox.checked = style.reverse && !this.reverseBox.disabled;
    for (const key of ['min', 'max']) {
      const value = style.scale.format(style[key]);
      const {range, number, label} = this.bounds[key];
      range.value = value;
      if (document.activeElement !== number) {
        number.value = value;
      }
      label.textContent = value;
    }
  }

  /** Show the style and redraw the tiles now. */
  apply() {
    window.clearTimeout(this.timer);
    this.timer = null;
    this.show();
    this.onApply();
  }

  /** Show the style now, redraw once the slider pauses (each redraw fetches every tile in view). */
  applySoon() {
    this.show();
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.apply(), SLIDER_DELAY_MS);
  }
}

/**
 * Wire the navigation: go to a depth (centred, zoom kept), the whole log, and
 * the horizontal stretch (the map rebuilt, keeping the zoom and the depth in view).
 * @param {DepthMap} depthMap - the map (map.js).
 * @param {number} stretch - the stretch selected at first.
 * @param {function(number)} onStretch - called with a newly chosen stretch.
 */
export function wireNavigation(depthMap, stretch, onStretch) {
  const stretchSelect = el('stretch');
  for (const k of STRETCHES) {
    stretchSelect.add(new Option(k === 1 ? '1× (square)' : k + '×', String(k)));
  }
  stretchSelect.value = String(stretch);
  stretchSelect.addEventListener('change', () => onStretch(Number(stretchSelect.value)));

  el('fit-button').addEventListener('click', () => depthMap.fitView());
  el('goto-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const depth = parseFloat(el('goto-depth').value);
    if (Number.isFinite(depth)) {
      depthMap.showDepth(depth, null);
    }
  });
}
