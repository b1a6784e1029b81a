/**
 * An image track: the log drawn from its tile pyramid on a canvas of its own,
 * filling the track's width whatever the depth scale, nearest pixels beyond
 * native resolution, turned around the borehole by an azimuth offset; with its
 * colours (colormap, reverse, min/max or a normalisation), legend, azimuth
 * header and readout.
 *
 * Why our own canvases rather than GeoJS 1.19: GeoJS keeps one isotropic map
 * per element (one unitsPerPixel for x and y). The workstation needs N tracks
 * that share one depth axis exactly (one view, drawn in the same frame) with a
 * horizontal scale of their own (the image fills the track: anisotropic, and it
 * changes with the track's width, not with the depth scale), and a pan that
 * wraps around the borehole. Each would be a fight with GeoJS's camera; a
 * canvas per track is ~100 lines, draws every track in one animation frame, and
 * turns smoothing off with one flag.
 * @module image-track
 */

import {fetchPixel} from '../viewer/api.js';
import {DepthAxis} from '../viewer/axis.js';
import {axisCanvas, sizeCanvas} from '../viewer/canvas.js';
import {TileStyle, valueScale} from '../viewer/style.js';
import {azimuthAt, azimuthTicks, columnAt, dragOffset, seamShifts, wrapDegrees} from './azimuth.js';
import {tileRange, tilesForView} from './levels.js';
import {imageReadout} from './readout.js';
import {NORMALIZATIONS} from './state.js';
import {Track, el} from './track.js';

/** The mouse rests this long before the pixel's value is asked for. */
const READOUT_DELAY_MS = 120;
/** The default window of dynamic normalisation, per depth unit (COMMON.md). */
export const DEFAULT_WINDOW = Object.freeze({m: 0.6, ft: 2});
/** The longest window in scanlines: the server takes at most 4,097 scanlines of a level. */
const MAX_WINDOW_ROWS = 4096;

export class ImageTrack extends Track {
  /**
   * @param {Object} desk - the workstation.
   * @param {Object} image - the image's page configuration (tiles/views.py image_config).
   * @param {Object} options - the track's layout (state.js): width, colormap,
   *   reverse, min, max, normalize, window, azimuth.
   * @param {Object} catalogue - style.js colormapCatalogue of /api/v1/colormaps.
   * @param {TileCache} cache - the page's tiles.
   */
  constructor(desk, image, options, catalogue, cache) {
    super(desk, 'image', image.name, options.width);
    this.image = image;
    this.element.dataset.id = String(image.id);
    this.axis = DepthAxis.fromConfig(image);
    /** What levels.js needs of the pyramid. */
    this.pyramid = {rows: image.rows, columns: image.columns, tileSize: image.tile_size, zooms: image.zooms};
    this.catalogue = catalogue;
    this.cache = cache;
    this.style = new TileStyle(catalogue, valueScale(image), options);
    this.normalize = options.normalize || 'none';
    this.window = options.window === null || options.window === undefined
      ? null : Math.min(options.window, MAX_WINDOW_ROWS * image.depth_step);
    this.azimuth = options.azimuth || 0;
    this.pending = null;
    this.timer = null;
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', 'Image ' + image.name);
    this.buildHead();
    this.buildSettings();
  }

  /** The unit of the values ("" unknown). */
  get unit() {
    return this.image.value_unit || '';
  }

  /** @returns {number} the normalisation window in the depth unit (the server's default if unset). */
  windowLength() {
    return this.window !== null && this.window !== undefined ? this.window : (DEFAULT_WINDOW[this.image.depth_unit] || 0.6);
  }

  /**
   * The longest dynamic window the server takes at every level: MAX_WINDOW_ROWS
   * scanlines of full resolution (tiles/rest/params.py: 4,097 rows of the level).
   * @returns {number} depth unit.
   */
  maxWindow() {
    return MAX_WINDOW_ROWS * this.image.depth_step;
  }

  /** @returns {URLSearchParams} the tile query: palette, min, max, normalize, window. */
  tileQuery() {
    const query = this.style.query();
    if (this.normalize !== 'none') {
      query.delete('min');
      query.delete('max');
      query.set('normalize', this.normalize);
      if (this.normalize === 'dynamic') {
        query.set('window', String(this.windowLength()));
      }
    }
    return query;
  }

  /** @returns {string} the tile URL of (z, x, y). */
  tileUrl(z, x, y) {
    const query = this.tileQuery().toString();
    return this.image.tile_url + '/' + z + '/' + x + '/' + y + '.png' + (query ? '?' + query : '');
  }

  buildHead() {
    this.legend = el('img', {className: 'ws-legend-strip', alt: 'Legend of the colormap'});
    this.legendMin = el('span', {className: 'ws-legend-value'});
    this.legendMax = el('span', {className: 'ws-legend-value'});
    this.legendUnit = el('div', {className: 'ws-legend-unit'});
    this.azimuthCanvas = el('canvas', {className: 'ws-azimuth'});
    this.azimuthCanvas.setAttribute('aria-label', 'Azimuth: N E S W');
    this.headBody.append(
      el('div', {className: 'ws-legend'}, this.legendMin, this.legend, this.legendMax),
      this.legendUnit, this.azimuthCanvas);
    this.updateLegend();
  }

  updateLegend() {
    const url = this.catalogue.legends.get(this.style.drawn());
    if (url) {
      this.legend.src = url;
    }
    const normalised = this.normalize !== 'none';
    const format = this.style.scale.format;
    this.legendMin.textContent = normalised ? '0' : format(this.style.min);
    this.legendMax.textContent = normalised ? '1' : format(this.style.max);
    this.legendUnit.textContent = normalised
      ? (this.normalize === 'dynamic' ? 'dynamic, ' + this.windowLength() + ' ' + this.image.depth_unit : 'static') + ' percentile'
      : this.unit;
    this.element.dataset.normalize = this.normalize;
  }

  /** The settings popover: colours, normalisation, turn. */
  buildSettings() {
    const field = (label, input) => el('label', {className: 'ws-field'}, el('span', {}, label), input);
    const colormap = el('select', {autocomplete: 'off'});
    for (const choice of this.catalogue.choices) {
      colormap.append(el('option', {value: choice.name, textContent: choice.name}));
    }
    colormap.value = this.style.colormap;
    const reverse = el('input', {type: 'checkbox', checked: this.style.reverse});
    const scale = this.style.scale;
    const min = el('input', {type: 'number', step: 'any', value: scale.format(this.style.min), className: 'ws-number'});
    const max = el('input', {type: 'number', step: 'any', value: scale.format(this.style.max), className: 'ws-number'});
    const normalize = el('select', {autocomplete: 'off', className: 'ws-normalize'});
    for (const name of NORMALIZATIONS) {
      normalize.append(el('option', {value: name, textContent: name}));
    }
    normalize.value = this.normalize;
    const window = el('input', {type: 'number', step: 'any', min: '0', max: String(this.maxWindow()),
      value: String(this.windowLength()),
      className: 'ws-number ws-window'});
    const turn = el('input', {type: 'number', step: 'any', value: String(this.azimuth), className: 'ws-number ws-turn'});
    const sync = () => {
      min.disabled = max.disabled = this.normalize !== 'none';
      window.disabled = this.normalize !== 'dynamic';
    };
    const apply = () => {
      this.style.colormap = colormap.value;
      this.style.reverse = reverse.checked;
      const low = Number(min.value);
      const high = Number(max.value);
      if (min.value !== '' && max.value !== '' && Number.isFinite(low) && Number.isFinite(high) && low <= high) {
        this.style.min = low;
        this.style.max = high;
      }
      this.normalize = normalize.value;
      const length = Math.min(this.maxWindow(), Number(window.value));
      this.window = window.value !== '' && length > 0 ? length : null;
      window.value = String(this.windowLength());
      const offset = Number(turn.value);
      this.azimuth = Number.isFinite(offset) ? wrapDegrees(offset) : 0;
      sync();
      this.updateLegend();
      this.desk.changed();
    };
    for (const input of [colormap, reverse, min, max, normalize, window, turn]) {
      input.addEventListener('change', apply);
    }
    this.turnInput = turn;
    sync();
    this.settings.append(
      field('Colormap', colormap), field('Reverse', reverse), field('Min', min), field('Max', max),
      field('Normalise', normalize), field('Window (' + this.image.depth_unit + ')', window),
      field('Azimuth at left (°)', turn));
  }

  /**
   * Turn the image around the borehole by a drag.
   * @param {number} dx - CSS px the content moved right.
   */
  turn(dx) {
    this.azimuth = dragOffset(this.azimuth, dx, this.canvas.clientWidth);
    this.turnInput.value = String(Number(this.azimuth.toFixed(1)));
  }

  /**
   * Draw the tiles in view (and, under them, those of the next coarser level
   * already loaded, so a pan or a zoom never shows holes); the header.
   * @param {{view: DepthView}} frame @returns {boolean} all tiles in view drawn.
   */
  draw(frame) {
    const {ctx, w, h, ratio} = sizeCanvas(this.canvas);
    this.drawAzimuth();
    const view = frame.view;
    const rowsInView = {
      rowTop: this.axis.depthToRow(view.top) + 0.5,
      rowBottom: this.axis.depthToRow(view.bottom(h)) + 0.5,
    };
    const plan = tilesForView(this.pyramid, rowsInView, {width: w, height: h, ratio: ratio});
    ctx.setTransform(1, 0, 0, 1, 0, 0);  // device px: tile edges on whole pixels, no seams
    ctx.imageSmoothingEnabled = false;
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, 0, Math.round(w * ratio), Math.round(h * ratio));
    ctx.clip();
    const shifts = seamShifts(this.azimuth, w);
    const place = {view: view, w: w, ratio: ratio, shifts: shifts};
    if (plan.page + 1 < this.pyramid.zooms) {
      const coarse = tileRange({...this.pyramid, page: plan.page + 1, ...rowsInView});
      this.drawTiles(ctx, coarse, plan.page + 1, place, false);
    }
    const complete = this.drawTiles(ctx, plan, plan.page, place, true);
    if (this.desk.picks) {
      this.desk.picks.drawOverlay(this, ctx, {view: view, w: w, h: h, ratio: ratio});
    }
    ctx.restore();
    Object.assign(this.canvas.dataset, {state: complete ? 'ready' : 'loading', z: String(plan.z), page: String(plan.page)});
    return complete;
  }

  /**
   * Draw the tiles of a range, loading them (load) or only those already there.
   * @returns {boolean} every tile of the range drawn (or failed).
   */
  drawTiles(ctx, range, page, place, load) {
    let complete = true;
    for (const y of range.ys) {
      for (const x of range.xs) {
        const url = this.tileUrl(range.z, x, y);
        let image = this.cache.ready(url);
        if (!image && load) {
          const entry = this.cache.get(url);
          image = entry.state === 'ready' ? entry.image : null;
          complete = complete && entry.state === 'failed';
        }
        if (image) {
          this.drawTile(ctx, image, x * range.span, y * range.span, Math.pow(2, page), place);
        }
      }
    }
    return complete;
  }

  /**
   * One tile: its stored columns across the track's width (once per seam
   * shift), its stored rows at their depths; edges rounded to device pixels.
   */
  drawTile(ctx, image, column0, row0, factor, {view, w, ratio, shifts}) {
    const sw = Math.min(image.naturalWidth, (this.image.columns - column0) / factor);
    const sh = Math.min(image.naturalHeight, (this.image.rows - row0) / factor);
    if (!(sw > 0 && sh > 0)) {
      return;
    }
    const rowY = (row) => Math.round(view.depthToY(this.axis.rowToDepth(row - 0.5)) * ratio);
    const y0 = rowY(row0);
    const y1 = rowY(row0 + sh * factor);
    for (const shift of shifts) {
      const columnX = (column) => Math.round((shift + column / this.image.columns * w) * ratio);
      const x0 = columnX(column0);
      const x1 = columnX(column0 + sw * factor);
      if (x1 > x0 && y1 > y0) {
        ctx.drawImage(image, 0, 0, sw, sh, x0, y0, x1 - x0, y1 - y0);
      }
    }
  }

  /** The azimuth header: N E S W at 0/90/180/270 degrees, minor ticks at 45. */
  drawAzimuth() {
    const {ctx, w, h} = axisCanvas(this.azimuthCanvas, {font: '11px sans-serif', baseline: 'top'});
    ctx.beginPath();
    for (const tick of azimuthTicks(this.azimuth - 45, w)) {
      const x = Math.round(tick.x) + 0.5;
      ctx.moveTo(x, h - 4);
      ctx.lineTo(x, h);
    }
    const ticks = azimuthTicks(this.azimuth, w);
    for (const tick of ticks) {
      const x = Math.round(tick.x) + 0.5;
      ctx.moveTo(x, h - 8);
      ctx.lineTo(x, h);
      ctx.textAlign = x < 8 ? 'left' : (x > w - 8 ? 'right' : 'center');
      ctx.fillText(tick.label, x, 1);
    }
    ctx.moveTo(0, h - 0.5);
    ctx.lineTo(w, h - 0.5);
    ctx.stroke();
    this.azimuthCanvas.dataset.ticks = JSON.stringify(ticks.map((t) => [t.label, Number(t.x.toFixed(2))]));
    this.element.dataset.azimuth = String(Number(this.azimuth.toFixed(3)));
  }

  /**
   * Sector, azimuth and value at the cursor: the azimuth under the mouse over
   * an image track (this one or another), else only the row.
   * @param {?{depth: number, text: string, x: ?number, azimuth: ?number}} cursor
   */
  showReadout(cursor) {
    window.clearTimeout(this.timer);
    if (this.pending) {
      this.pending.abort();
      this.pending = null;
    }
    if (!cursor) {
      this.setReadout('');
      return;
    }
    const row = Math.round(this.axis.depthToRow(cursor.depth));
    if (row < 0 || row >= this.axis.rows) {
      this.setReadout('', {depth: cursor.text});
      return;
    }
    const w = this.canvas.clientWidth;
    let column = null;
    if (cursor.x !== null && cursor.x !== undefined) {
      column = columnAt(cursor.x, w, this.azimuth, this.image.columns);
    } else if (cursor.azimuth !== null && cursor.azimuth !== undefined) {
      column = Math.min(this.image.columns - 1, Math.floor(cursor.azimuth / 360 * this.image.columns));
    }
    const data = {depth: cursor.text, row: String(row)};
    if (column === null) {
      this.setReadout('row ' + row, data);
      return;
    }
    Object.assign(data, {column: String(column)});
    const pixel = {column: column, columns: this.image.columns, value: undefined, unit: this.unit};
    this.setReadout(imageReadout(pixel), data);
    this.timer = window.setTimeout(() => {
      const pending = new AbortController();
      this.pending = pending;
      fetchPixel(this.image.pixel_url, row, column, pending.signal).then((answer) => {
        if (answer && this.pending === pending) {
          pixel.value = answer.value;
          this.setReadout(imageReadout(pixel), {...data, value: String(answer.value)});
        }
      }).catch(() => {});
    }, READOUT_DELAY_MS);
  }

  /** @param {number} x - CSS px in the body. @returns {number} the azimuth there. */
  azimuthAtX(x) {
    return azimuthAt(x, this.canvas.clientWidth, this.azimuth);
  }

  state() {
    const rangeDefault = this.style.rangeIsDefault();
    const format = this.style.scale.format;
    return {
      kind: 'image',
      id: this.image.id,
      width: this.width,
      colormap: this.style.colormap,
      reverse: this.style.reverse,
      min: rangeDefault ? null : format(this.style.min),
      max: rangeDefault ? null : format(this.style.max),
      normalize: this.normalize,
      window: this.window,
      azimuth: this.azimuth,
    };
  }
}
