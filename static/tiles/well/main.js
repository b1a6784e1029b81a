/**
 * The borehole-image workstation (/wells/<id>, /images/<id>/tracks): tracks side
 * by side on one depth axis. The page script: it keeps the view (scale.js), the
 * tracks (depth-track.js, image-track.js, curve-track.js), the layout in the
 * page address (state.js), and wires the toolbar, pan, zoom, the cursor line
 * and its readout. Every track is drawn in the same animation frame.
 *
 * Configuration comes from the page: {{ config|json_script:"well-config" }}
 * (tiles/views.py).
 */

import {fetchJson} from '../viewer/api.js';
import {colormapCatalogue} from '../viewer/style.js';
import {niceStep} from '../viewer/ticks.js';
import {CurveTrack} from './curve-track.js';
import {DepthTrack} from './depth-track.js';
import {ImageTrack} from './image-track.js';
import {PickLayer} from './pick-layer.js';
import {DepthView, PRESETS, clampView, fitView, pxPerUnitAt, ratioOf} from './scale.js';
import {DEFAULT_WIDTHS, MAX_TRACKS, parseTrackToken, readLayout, writeLayout} from './state.js';
import {TadpoleTrack} from './tadpole-track.js';
import {TileCache} from './tiles.js';

/** Screen px between depth labels, at least. */
const MIN_LABEL_SPACING = 40;
/** The page address follows the view at most this often (history.replaceState is rate-limited). */
const STATE_THROTTLE_MS = 250;
/** The scale a new page opens at (the common reading scale of image logs). */
const DEFAULT_RATIO = 200;
/** Wheel: zoom factor per 100 px of deltaY. */
const WHEEL_ZOOM = 1.25;

const byId = (id) => document.getElementById(id);

class Workstation {
  /**
   * @param {Object} config - the page configuration.
   * @param {Array<Object>} colormaps - /api/v1/colormaps.
   */
  constructor(config, colormaps) {
    this.config = config;
    this.unit = config.depth_unit;
    this.extent = {min: config.depth_min, max: config.depth_max};
    this.decimals = config.depth_decimals;
    this.images = new Map(config.images.map((image) => [image.id, image]));
    this.curves = new Map(config.curves.map((curve) => [curve.mnemonic, curve]));
    this.catalogue = colormapCatalogue(colormaps);
    this.cache = new TileCache(() => this.requestDraw());
    this.container = byId('ws-tracks');
    this.cursorLine = byId('ws-cursor');
    this.tracks = [];
    this.frame = null;
    this.saveTimer = null;
    this.fit = false;
    this.view = new DepthView(this.extent.min, pxPerUnitAt(DEFAULT_RATIO, this.unit));
    this.picks = new PickLayer(this, config);
  }

  /** Build the tracks and the view of the address (or the default layout), and wire the page. */
  start() {
    const layout = readLayout(window.location.search);
    const tracks = layout.tracks || this.config.default_tracks.map(parseTrackToken).filter(Boolean);
    for (const wanted of tracks) {
      this.addTrack(wanted, false);
    }
    this.buildToolbar();
    this.picks.build();
    this.wirePointer();
    new ResizeObserver(() => {
      if (this.fit) {
        this.view = fitView(this.extent, this.bodyHeight());
      }
      this.requestDraw();
    }).observe(this.container);
    const height = this.bodyHeight();
    if (layout.scale === 'fit') {
      this.setFit();
    } else {
      const ratio = layout.scale || DEFAULT_RATIO;
      const top = layout.top === null ? this.extent.min : layout.top;
      this.view = clampView(new DepthView(top, pxPerUnitAt(ratio, this.unit)), this.extent, height, this.unit);
    }
    this.drawNow();
  }

  /**
   * Make a track of its layout and append it; an image or curves the page does
   * not know are left out.
   * @param {Object} wanted - state.js's track (parseTrackToken, readLayout).
   * @param {boolean} notify - a user's change: redraw and save.
   */
  addTrack(wanted, notify) {
    if (this.tracks.length >= MAX_TRACKS) {
      return;
    }
    const width = wanted.width || DEFAULT_WIDTHS[wanted.kind];
    let track = null;
    if (wanted.kind === 'depth') {
      track = new DepthTrack(this, width, this.unit);
    } else if (wanted.kind === 'image' && this.images.has(wanted.id)) {
      const options = {colormap: null, reverse: false, min: null, max: null, normalize: 'none', window: null, azimuth: 0};
      track = new ImageTrack(this, this.images.get(wanted.id), {...options, ...wanted, width: width}, this.catalogue, this.cache);
    } else if (wanted.kind === 'picks' && this.images.has(wanted.id)) {
      track = new TadpoleTrack(this, this.images.get(wanted.id), {...wanted, width: width}, this.picks.kinds);
    } else if (wanted.kind === 'curve') {
      const curves = wanted.curves || (wanted.mnemonics || []).map((m) => ({mnemonic: m}));
      track = new CurveTrack(this, this.curves, {width: width, curves: curves});
      if (!track.curves.length) {
        track = null;
      }
    }
    if (track) {
      this.tracks.push(track);
      this.container.insertBefore(track.element, this.cursorLine);
      if (notify) {
        this.changed();
      }
    }
  }

  // -- what tracks call ------------------------------------------------------------

  /** Redraw on the next animation frame. */
  requestDraw() {
    if (this.frame === null) {
      this.frame = window.requestAnimationFrame(() => {
        this.frame = null;
        this.drawNow();
      });
    }
  }

  /** The layout changed: redraw and write the address. */
  changed() {
    this.requestDraw();
    this.saveSoon();
  }

  /** @param {Track} track @param {number} step - -1 left, +1 right. */
  move(track, step) {
    const i = this.tracks.indexOf(track);
    const j = i + step;
    if (i < 0 || j < 0 || j >= this.tracks.length) {
      return;
    }
    [this.tracks[i], this.tracks[j]] = [this.tracks[j], this.tracks[i]];
    for (const t of this.tracks) {
      this.container.insertBefore(t.element, this.cursorLine);
    }
    this.changed();
  }

  /** @param {Track} track */
  remove(track) {
    this.tracks = this.tracks.filter((t) => t !== track);
    track.element.remove();
    this.changed();
  }

  // -- view -------------------------------------------------------------------------

  /** @returns {number} CSS px of the track bodies (all equal). */
  bodyHeight() {
    const track = this.tracks[0];
    return track ? track.canvas.clientHeight || 1 : 1;
  }

  /** @param {DepthView} view - the new view, kept usable (clampView). @param {boolean} [fit] */
  setView(view, fit = false) {
    this.view = clampView(view, this.extent, this.bodyHeight(), this.unit);
    this.fit = fit;
    this.changed();
  }

  setFit() {
    this.setView(fitView(this.extent, this.bodyHeight()), true);
  }

  /** @param {number} ratio - 1:N. */
  setRatio(ratio) {
    this.setView(this.view.withScale(pxPerUnitAt(ratio, this.unit), this.bodyHeight()));
  }

  drawNow() {
    const view = this.view;
    const frame = {view: view, ticks: niceStep(MIN_LABEL_SPACING / view.pxPerUnit), extent: this.extent};
    let complete = true;
    for (const track of this.tracks) {
      complete = track.draw(frame) && complete;
    }
    this.container.dataset.state = complete ? 'ready' : 'loading';
    this.showScale();
  }

  /** The toolbar's scale and the range in view, with their figures in data-* attributes (read by the tests). */
  showScale() {
    const ratio = ratioOf(this.view.pxPerUnit, this.unit);
    const select = byId('ws-scale');
    const preset = PRESETS.find((n) => Math.abs(n - ratio) / n < 0.005);
    const free = byId('ws-scale-free');
    if (this.fit) {
      select.value = 'fit';
    } else if (preset) {
      select.value = String(preset);
    } else {
      free.textContent = '1:' + Math.round(ratio);
      select.value = 'free';
    }
    free.hidden = select.value !== 'free';
    const node = byId('ws-range');
    const top = this.view.top;
    const bottom = this.view.bottom(this.bodyHeight());
    node.textContent = top.toFixed(this.decimals) + ' – ' + bottom.toFixed(this.decimals) + ' ' + this.unit +
      ' · 1:' + Math.round(ratio);
    Object.assign(node.dataset, {
      top: String(top), bottom: String(bottom), ratio: String(ratio), pxPerUnit: String(this.view.pxPerUnit),
    });
  }

  /** Write the layout into the address, at most every STATE_THROTTLE_MS. */
  saveSoon() {
    if (this.saveTimer !== null) {
      return;
    }
    this.saveTimer = window.setTimeout(() => {
      this.saveTimer = null;
      const search = writeLayout({
        tracks: this.tracks.map((t) => t.state()),
        scale: this.fit ? 'fit' : ratioOf(this.view.pxPerUnit, this.unit),
        top: this.view.top,
        topDecimals: this.decimals + 2,
      });
      const url = new URL(window.location.href);
      url.search = search;
      if (url.href !== window.location.href) {
        window.history.replaceState(null, '', url);
      }
    }, STATE_THROTTLE_MS);
  }

  // -- toolbar and pointer --------------------------------------------------------------

  buildToolbar() {
    const select = byId('ws-scale');
    select.addEventListener('change', () => {
      if (select.value === 'fit') {
        this.setFit();
      } else if (select.value !== 'free') {
        this.setRatio(Number(select.value));
      }
    });
    const add = byId('ws-add');
    add.addEventListener('change', () => {
      const token = add.value;
      add.value = '';
      const wanted = parseTrackToken(token);
      if (wanted) {
        this.addTrack(wanted, true);
      }
    });
    byId('ws-goto').addEventListener('submit', (event) => {
      event.preventDefault();
      const depth = Number(byId('ws-goto-depth').value);
      if (Number.isFinite(depth)) {
        const h = this.bodyHeight();
        this.setView(new DepthView(depth - h / 2 / this.view.pxPerUnit, this.view.pxPerUnit));
      }
    });
  }

  /** @returns {?{track: Track, x: number, y: number}} the track body under a page point. */
  bodyAt(clientX, clientY) {
    for (const track of this.tracks) {
      const box = track.canvas.getBoundingClientRect();
      if (clientX >= box.left && clientX < box.right && clientY >= box.top && clientY < box.bottom) {
        return {track: track, x: clientX - box.left, y: clientY - box.top};
      }
    }
    return null;
  }

  wirePointer() {
    const container = this.container;
    let drag = null;
    container.addEventListener('pointerdown', (event) => {
      const hit = event.button === 0 && event.target.classList.contains('ws-track-body')
        ? this.bodyAt(event.clientX, event.clientY) : null;
      if (!hit) {
        return;
      }
      event.preventDefault();
      if (this.picks.picking && hit.track.kind === 'image') {
        this.picks.addPoint(hit.track, hit.x, hit.y);
        return;
      }
      container.setPointerCapture(event.pointerId);
      drag = {track: hit.track, x: event.clientX, y: event.clientY};
      container.classList.add('ws-dragging');
    });
    container.addEventListener('pointermove', (event) => {
      if (drag) {
        const dx = event.clientX - drag.x;
        const dy = event.clientY - drag.y;
        drag.x = event.clientX;
        drag.y = event.clientY;
        if (drag.track.kind === 'image' && dx) {
          drag.track.turn(dx);
        }
        this.setView(this.view.panBy(dy), this.fit && dy === 0);
      }
      this.showCursor(event.clientX, event.clientY);
    });
    const end = () => {
      drag = null;
      container.classList.remove('ws-dragging');
    };
    container.addEventListener('pointerup', end);
    container.addEventListener('pointercancel', end);
    container.addEventListener('pointerleave', () => this.showCursor(null, null));
    container.addEventListener('wheel', (event) => {
      const hit = this.bodyAt(event.clientX, event.clientY);
      if (!hit) {
        return;
      }
      event.preventDefault();
      const delta = event.deltaMode === 1 ? event.deltaY * 40 : event.deltaY;
      if (event.shiftKey) {
        this.setView(this.view.panBy(-delta));
      } else {
        this.setView(this.view.zoomAbout(Math.pow(WHEEL_ZOOM, -delta / 100), hit.y));
      }
      this.showCursor(event.clientX, event.clientY);
    }, {passive: false});
  }

  /** The cursor line and every track's readout at a page point (null: hide). */
  showCursor(clientX, clientY) {
    const hit = clientX === null ? null : this.bodyAt(clientX, clientY);
    if (!hit) {
      this.cursorLine.hidden = true;
      byId('ws-cursor-depth').textContent = '\u00a0';
      for (const track of this.tracks) {
        track.showReadout(null);
      }
      return;
    }
    const depth = this.view.yToDepth(hit.y);
    const text = depth.toFixed(this.decimals + 1);
    const top = hit.track.canvas.getBoundingClientRect().top - this.container.getBoundingClientRect().top;
    this.cursorLine.hidden = false;
    this.cursorLine.style.top = (top + this.container.scrollTop + Math.round(hit.y)) + 'px';
    byId('ws-cursor-depth').textContent = 'Depth ' + text + ' ' + this.unit;
    const azimuth = hit.track.kind === 'image' ? hit.track.azimuthAtX(hit.x) : null;
    for (const track of this.tracks) {
      track.showReadout({depth: depth, text: text, x: track === hit.track ? hit.x : null, azimuth: azimuth});
    }
  }
}

const config = JSON.parse(byId('well-config').textContent);
if (config.images.length || config.curves.length) {
  fetchJson(config.colormaps_url)
    .then((colormaps) => {
      const desk = new Workstation(config, colormaps);
      desk.start();
      // For the browser tests, the benchmark and the console.
      window.workstation = desk;
    })
    .catch((error) => {
      const status = byId('ws-status');
      status.hidden = false;
      status.textContent = 'The workstation could not start: ' + error.message;
    });
}
