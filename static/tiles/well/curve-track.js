/**
 * A curve track: one or more curves of the well side by side on one canvas, each
 * with its colour, left/right limits, linear or logarithmic scale and optional
 * fill to a baseline, over a grid (depth ticks of the frame; quarters or decades
 * of the first curve). Data come from the curves API, decimated by the server
 * to about two points per CSS px of the depth range asked for (curves.js fetchPlan).
 * @module curve-track
 */

import {sizeCanvas} from '../viewer/canvas.js';
import {multiplesIn} from '../viewer/ticks.js';
import {
  CURVE_COLOURS, covers, curvePath, curveScale, decades, defaultLimits, fetchPlan, fillPolygon, valueAt,
} from './curves.js';
import {curveReadout, formatValue} from './readout.js';
import {MAX_CURVES} from './state.js';
import {Track, el} from './track.js';

/** Wait this long after the last change of view before asking for curve data. */
const FETCH_DELAY_MS = 80;

export class CurveTrack extends Track {
  /**
   * @param {Object} desk - the workstation.
   * @param {Map<string, Object>} catalogue - the well's curves by mnemonic (the API's curve objects).
   * @param {{width: number, curves: Array<Object>}} options - the track's layout
   *   (state.js parseCurveOptions per curve; null fields take defaults).
   */
  constructor(desk, catalogue, options) {
    super(desk, 'curve', 'Curves', options.width);
    this.catalogue = catalogue;
    this.curves = [];
    this.timer = null;
    for (const wanted of options.curves) {
      this.addCurve(wanted, false);
    }
    this.canvas.setAttribute('role', 'img');
    this.buildSettings();
    this.updateHead();
  }

  /**
   * Add a curve of the catalogue (ignored if unknown, already there or past MAX_CURVES).
   * @param {Object} wanted - parseCurveOptions's fields. @param {boolean} notify - say the layout changed.
   */
  addCurve(wanted, notify) {
    const meta = this.catalogue.get(wanted.mnemonic);
    if (!meta || this.curves.some((c) => c.mnemonic === wanted.mnemonic) || this.curves.length >= MAX_CURVES) {
      return;
    }
    const limits = wanted.left !== null && wanted.left !== undefined
      ? {left: wanted.left, right: wanted.right, log: Boolean(wanted.log)} : defaultLimits(meta);
    this.curves.push({
      meta: meta,
      mnemonic: meta.mnemonic,
      left: limits.left,
      right: limits.right,
      log: limits.log,
      fill: wanted.fill === undefined ? null : wanted.fill,
      colour: wanted.colour || CURVE_COLOURS[this.curves.length % CURVE_COLOURS.length],
      data: null,
      have: null,
      asked: null,
      loading: null,
    });
    if (notify) {
      this.buildSettings();
      this.updateHead();
      this.desk.changed();
    }
  }

  /** The head: one line per curve, in its colour: left limit, mnemonic (unit), right limit. */
  updateHead() {
    this.title.textContent = this.curves.map((c) => c.mnemonic).join(', ') || 'Curves';
    this.headBody.replaceChildren(...this.curves.map((c) => el('div',
      {className: 'ws-curve-head', style: 'color: ' + c.colour + '; border-bottom-color: ' + c.colour,
        dataset: {mnemonic: c.mnemonic, scale: c.log ? 'log' : 'linear'}},
      el('span', {}, formatValue(c.left)),
      el('span', {className: 'ws-curve-name'}, c.mnemonic + (c.meta.unit ? ' (' + c.meta.unit + ')' : '') + (c.log ? ' log' : '')),
      el('span', {}, formatValue(c.right)))));
    this.canvas.setAttribute('aria-label', 'Curves ' + this.title.textContent);
  }

  /** The settings popover: per curve limits, log, fill baseline, colour, remove; add a curve. */
  buildSettings() {
    const rows = this.curves.map((curve) => {
      const left = el('input', {type: 'number', step: 'any', value: String(curve.left), className: 'ws-number ws-left'});
      const right = el('input', {type: 'number', step: 'any', value: String(curve.right), className: 'ws-number ws-right'});
      const log = el('input', {type: 'checkbox', checked: curve.log, className: 'ws-log'});
      const fill = el('input', {type: 'number', step: 'any', placeholder: 'none', className: 'ws-number ws-fill',
        value: curve.fill === null ? '' : String(curve.fill)});
      const colour = el('input', {type: 'color', value: curve.colour});
      const apply = () => {
        const a = Number(left.value);
        const b = Number(right.value);
        if (curveScale({left: a, right: b, log: log.checked})) {
          Object.assign(curve, {left: a, right: b, log: log.checked});
        } else {
          log.checked = curve.log;
        }
        curve.fill = fill.value === '' || !Number.isFinite(Number(fill.value)) ? null : Number(fill.value);
        curve.colour = colour.value;
        this.updateHead();
        this.desk.changed();
      };
      for (const input of [left, right, log, fill, colour]) {
        input.addEventListener('change', apply);
      }
      const remove = this.button('✕', 'Remove ' + curve.mnemonic, () => {
        this.curves = this.curves.filter((c) => c !== curve);
        this.buildSettings();
        this.updateHead();
        this.desk.changed();
      });
      return el('fieldset', {className: 'ws-curve-settings', dataset: {mnemonic: curve.mnemonic}},
        el('legend', {}, curve.mnemonic, remove),
        el('label', {className: 'ws-field'}, el('span', {}, 'Left'), left),
        el('label', {className: 'ws-field'}, el('span', {}, 'Right'), right),
        el('label', {className: 'ws-field'}, el('span', {}, 'Log'), log),
        el('label', {className: 'ws-field'}, el('span', {}, 'Fill to'), fill),
        el('label', {className: 'ws-field'}, el('span', {}, 'Colour'), colour));
    });
    const add = el('select', {autocomplete: 'off', className: 'ws-add-curve'},
      el('option', {value: '', textContent: 'Add a curve…'}));
    for (const mnemonic of this.catalogue.keys()) {
      if (!this.curves.some((c) => c.mnemonic === mnemonic)) {
        add.append(el('option', {value: mnemonic, textContent: mnemonic}));
      }
    }
    add.addEventListener('change', () => {
      if (add.value) {
        this.addCurve({mnemonic: add.value}, true);
      }
    });
    this.settings.replaceChildren(...rows, add);
  }

  /**
   * Grid and curves; asks for data the view lacks.
   * @param {{view: DepthView, ticks: {step: number}}} frame @returns {boolean} every curve's data in hand.
   */
  draw(frame) {
    const {ctx, w, h} = sizeCanvas(this.canvas);
    const view = frame.view;
    const top = view.top;
    const bottom = view.bottom(h);
    this.drawGrid(ctx, frame, w, h);
    let complete = true;
    for (const curve of this.curves) {
      if (!covers(curve.have, top, bottom, h)) {
        complete = false;
        if (!covers(curve.asked, top, bottom, h)) {
          this.scheduleFetch(top, bottom, h, curve.data ? FETCH_DELAY_MS : 0);
        }
      }
      if (curve.data) {
        this.drawCurve(ctx, curve, view, w);
      }
    }
    this.canvas.dataset.state = complete ? 'ready' : 'loading';
    return complete;
  }

  drawGrid(ctx, frame, w, h) {
    const styles = getComputedStyle(this.canvas);
    ctx.strokeStyle = styles.borderTopColor || '#ddd';
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (const depth of multiplesIn(frame.view.top, frame.view.bottom(h), frame.ticks.step)) {
      const y = Math.round(frame.view.depthToY(depth)) + 0.5;
      ctx.moveTo(0, y);
      ctx.lineTo(w, y);
    }
    const first = this.curves[0];
    const scale = first && curveScale(first);
    const values = !first ? [] : (first.log ? decades(first.left, first.right)
      : [0, 1, 2, 3, 4].map((k) => first.left + k / 4 * (first.right - first.left)));
    for (const value of values) {
      const x = Math.round(scale(value, w)) + 0.5;
      ctx.moveTo(x, 0);
      ctx.lineTo(x, h);
    }
    ctx.stroke();
  }

  drawCurve(ctx, curve, view, w) {
    const scale = curveScale(curve);
    if (!scale) {
      return;
    }
    const runs = curvePath(curve.data.depth, curve.data.value, scale, (d) => view.depthToY(d), w);
    if (curve.fill !== null) {
      const base = Math.min(w, Math.max(0, scale(curve.fill, w)));
      ctx.fillStyle = curve.colour + '55';
      for (const run of runs) {
        const polygon = fillPolygon(run, Number.isNaN(base) ? 0 : base);
        ctx.beginPath();
        polygon.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
        ctx.fill();
      }
    }
    ctx.strokeStyle = curve.colour;
    ctx.lineWidth = 1.25;
    ctx.lineJoin = 'round';
    ctx.beginPath();
    for (const run of runs) {
      run.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    }
    ctx.stroke();
  }

  /**
   * Ask for every curve the view lacks (and no request in flight covers), delay
   * ms after the last call: FETCH_DELAY_MS while panning, at once for a curve
   * that has nothing to show yet.
   */
  scheduleFetch(top, bottom, height, delay) {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => {
      const plan = fetchPlan(top, bottom, height);
      for (const curve of this.curves) {
        if (!covers(curve.have, top, bottom, height) && !covers(curve.asked, top, bottom, height)) {
          this.fetchCurve(curve, plan);
        }
      }
    }, delay);
  }

  fetchCurve(curve, plan) {
    if (curve.loading) {
      curve.loading.abort();
    }
    const loading = new AbortController();
    curve.loading = loading;
    // What the request in flight will hold (decimated at worst to maxPoints over the range).
    curve.asked = {
      depthMin: plan.depthMin, depthMax: plan.depthMax, decimated: true,
      pointsPerUnit: plan.maxPoints / Math.max(1e-9, plan.depthMax - plan.depthMin),
    };
    const query = new URLSearchParams({
      depth_min: String(plan.depthMin), depth_max: String(plan.depthMax), max_points: String(plan.maxPoints),
    });
    fetch(curve.meta.url + '?' + query.toString(), {headers: {Accept: 'application/json'}, signal: loading.signal})
      .then((response) => (response.ok ? response.json() : Promise.reject(new Error('HTTP ' + response.status))))
      .then((data) => {
        if (curve.loading !== loading) {
          return;  // a later request replaced this one
        }
        curve.data = data;
        curve.have = {
          depthMin: plan.depthMin,
          depthMax: plan.depthMax,
          decimated: Boolean(data.decimated),
          pointsPerUnit: data.depth.length / Math.max(1e-9, plan.depthMax - plan.depthMin),
        };
        curve.loading = null;
        curve.asked = null;
        this.desk.requestDraw();
      })
      .catch((error) => {
        if (error.name !== 'AbortError' && curve.loading === loading) {
          curve.loading = null;
          curve.asked = null;
          // Keep what we had; remember the range so a failing curve is not asked again each frame.
          curve.have = {depthMin: plan.depthMin, depthMax: plan.depthMax, decimated: false, pointsPerUnit: 0};
          this.desk.requestDraw();
        }
      });
  }

  /** @param {?{depth: number, text: string}} cursor - each curve's value nearest the cursor's depth. */
  showReadout(cursor) {
    if (!cursor) {
      this.setReadout('');
      return;
    }
    const values = {};
    const texts = this.curves.map((curve) => {
      const meta = curve.meta;
      const spacing = meta.samples > 1 ? (meta.depth_max - meta.depth_min) / (meta.samples - 1) : 0;
      const value = curve.data ? valueAt(curve.data, cursor.depth, Math.max(spacing, 0) * 1.5 + 1e-9) : null;
      values[curve.mnemonic] = value;
      return curveReadout(curve.mnemonic, value, meta.unit);
    });
    this.setReadout(texts.join(' · '), {depth: cursor.text, values: JSON.stringify(values)});
  }

  state() {
    return {
      kind: 'curve',
      width: this.width,
      curves: this.curves.map((c, i) => ({
        mnemonic: c.mnemonic, left: c.left, right: c.right, log: c.log, fill: c.fill,
        colour: c.colour === CURVE_COLOURS[i % CURVE_COLOURS.length] ? null : c.colour,  // null: the default
      })),
    };
  }
}
