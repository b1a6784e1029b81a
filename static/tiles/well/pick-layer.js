/**
 * Picks in the workstation: the picks of each image, fetched for the depth
 * range in view (GET /api/v1/images/<id>/picks?depth_min=&depth_max=, every
 * page); pick mode (click points on an image track, the least-squares sinusoid
 * drawn live from the third, saved with a kind, confidence and comment by POST
 * .../picks); the saved picks drawn over their image tracks (image-track.js
 * calls drawOverlay) and read by the tadpole tracks; and the picks panel: the
 * list (jump to depth, edit by PATCH, delete by DELETE), the CSV export and the
 * API token writes need (Authorization: Token <key>, kept in this browser's
 * localStorage under the dashboard's key).
 * @module pick-layer
 */

import {
  DEFAULT_KINDS, azimuthX, dipOf, fetchWindow, fitSinusoid, holds, kindColour, sinusoidPolyline, wallAzimuth,
} from './picks.js';
import {el} from './track.js';

/** The dashboard's key of the token (static/tiles/list.js TOKEN_KEY). */
export const TOKEN_KEY = 'depthtiles.token';
/** Picks per request (the API's largest limit is 200 by default) and pages followed at most. */
const PAGE_LIMIT = 200;
const MAX_PAGES = 25;
/** Depth unit added above and below a fetched window, so a steep sinusoid centred outside still shows. */
const SPAN_MARGIN = 1;
/** Radius of a clicked point (CSS px). */
const POINT_RADIUS = 3.5;

const byId = (id) => document.getElementById(id);

/** A number for a cell: fixed decimals, "–" for null. */
const fixed = (value, decimals) => (value === null || value === undefined ? '–' : Number(value).toFixed(decimals));

/** The message of a refused write: the error body's detail, else the status. */
async function refusal(response) {
  try {
    const body = await response.json();
    const detail = body.detail || body.message || body.error || JSON.stringify(body.errors || body);
    return 'HTTP ' + response.status + ': ' + (typeof detail === 'string' ? detail : JSON.stringify(detail));
  } catch {
    return 'HTTP ' + response.status;
  }
}

/** The value of a cookie (Django's csrftoken, for a session instead of a token). */
function cookie(name) {
  const found = document.cookie.split('; ').find((part) => part.startsWith(name + '='));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : null;
}

export class PickLayer {
  /**
   * @param {Object} desk - the workstation (main.js): images, view, bodyHeight(),
   *   requestDraw(), setView(), tracks.
   * @param {Object} config - the page configuration (pick_kinds, pick_confidences).
   */
  constructor(desk, config) {
    this.desk = desk;
    this.kinds = config.pick_kinds && config.pick_kinds.length ? config.pick_kinds : [...DEFAULT_KINDS];
    this.confidences = config.pick_confidences && config.pick_confidences.length
      ? config.pick_confidences : ['low', 'medium', 'high'];
    /** image id -> {range, picks, loading: ?{min, max}, controller}. */
    this.stores = new Map();
    this.picking = false;
    /** The points being picked: {track, points: [{azimuth, depth}]}. */
    this.draft = null;
    this.listed = [];
    this.listImage = null;
  }

  // -- fetching ------------------------------------------------------------------------

  store(imageId) {
    if (!this.stores.has(imageId)) {
      this.stores.set(imageId, {range: null, picks: [], loading: null, controller: null});
    }
    return this.stores.get(imageId);
  }

  /**
   * The picks of an image fetched around the view (asked for when the view
   * leaves the fetched range; drawn again when they arrive).
   * @param {number} imageId @param {number} top @param {number} bottom - depths of the view's edges.
   * @returns {Array<Object>} the API's picks in hand (may be of a range being replaced).
   */
  picksNear(imageId, top, bottom) {
    const store = this.store(imageId);
    const want = {min: top - SPAN_MARGIN, max: bottom + SPAN_MARGIN};
    if (!holds(store.range, want) && !holds(store.loading, want)) {
      const window = fetchWindow(top, bottom);
      this.load(imageId, {min: window.min - SPAN_MARGIN, max: window.max + SPAN_MARGIN});
    }
    return store.picks;
  }

  /** Fetch every page of an image's picks in a depth range into its store. */
  load(imageId, range) {
    const store = this.store(imageId);
    if (store.controller) {
      store.controller.abort();
    }
    const controller = new AbortController();
    store.controller = controller;
    store.loading = range;
    const image = this.desk.images.get(imageId);
    const query = new URLSearchParams({depth_min: String(range.min), depth_max: String(range.max), limit: String(PAGE_LIMIT)});
    this.fetchAll(image.picks_url + '?' + query.toString(), controller.signal).then((picks) => {
      if (store.controller === controller) {
        Object.assign(store, {range: range, picks: picks, loading: null, controller: null});
        this.desk.requestDraw();
      }
    }).catch(() => {
      if (store.controller === controller) {
        Object.assign(store, {loading: null, controller: null});
      }
    });
  }

  /** @returns {Promise<Array<Object>>} the results of a list and its next pages (MAX_PAGES at most). */
  async fetchAll(url, signal) {
    const picks = [];
    let next = url;
    for (let page = 0; next && page < MAX_PAGES; page += 1) {
      const response = await fetch(next, {headers: {Accept: 'application/json'}, signal: signal, cache: 'no-store'});
      if (!response.ok) {
        throw new Error(await refusal(response));
      }
      const body = await response.json();
      picks.push(...(Array.isArray(body) ? body : body.results));
      next = Array.isArray(body) ? null : body.next;
    }
    return picks;
  }

  /** Forget every fetched range (after a write): the tracks and the list ask again. */
  invalidate() {
    for (const store of this.stores.values()) {
      if (store.controller) {
        store.controller.abort();
      }
      Object.assign(store, {range: null, loading: null, controller: null});
    }
    this.desk.requestDraw();
    this.refreshList();
  }

  // -- writes ------------------------------------------------------------------------------

  /** @returns {Object} the headers of a write: JSON, the token or the session's CSRF token. */
  writeHeaders() {
    const headers = {'Content-Type': 'application/json', Accept: 'application/json'};
    const token = (this.tokenInput ? this.tokenInput.value : window.localStorage.getItem(TOKEN_KEY) || '').trim();
    if (token) {
      headers.Authorization = 'Token ' + token;
    }
    const csrf = cookie('csrftoken');
    if (csrf) {
      headers['X-CSRFToken'] = csrf;
    }
    return headers;
  }

  /**
   * A write to the API; the token is kept when it is accepted and forgotten when refused (401).
   * @returns {Promise<?Object>} the answer's body (null for 204).
   * @throws {Error} the server's refusal.
   */
  async write(method, url, body) {
    const response = await fetch(url, {
      method: method, headers: this.writeHeaders(), body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
    const token = this.tokenInput ? this.tokenInput.value.trim() : '';
    if (response.status === 401) {
      window.localStorage.removeItem(TOKEN_KEY);
      throw new Error((token ? 'the server refused the token' : 'paste your API token first') +
        ' (' + await refusal(response) + ')');
    }
    if (!response.ok) {
      throw new Error(await refusal(response));
    }
    if (token) {
      window.localStorage.setItem(TOKEN_KEY, token);
    }
    return response.status === 204 ? null : response.json();
  }

  // -- pick mode ---------------------------------------------------------------------------

  /** @param {boolean} on - pick mode on image tracks (a click adds a point) or off. */
  setPicking(on) {
    this.picking = on;
    this.cancelDraft();
    this.pickButton.setAttribute('aria-pressed', String(on));
    this.pickButton.classList.toggle('ws-active', on);
    this.desk.container.classList.toggle('ws-picking', on);
    this.form.hidden = !on;
    this.showDraft();
  }

  /**
   * A click on an image track in pick mode: a point at the wall azimuth under x
   * (the track's turn and the image's azimuth offset) and the depth under y (the
   * shared depth axis). A click on another image track starts again there.
   * @param {ImageTrack} track @param {number} x @param {number} y - CSS px in its body.
   */
  addPoint(track, x, y) {
    if (!this.draft || this.draft.track !== track) {
      this.draft = {track: track, points: []};
    }
    const w = track.canvas.clientWidth;
    this.draft.points.push({
      azimuth: wallAzimuth(x, w, track.azimuth, track.image.azimuth_offset || 0),
      depth: this.desk.view.yToDepth(y),
    });
    this.showDraft();
    this.desk.requestDraw();
  }

  cancelDraft() {
    this.draft = null;
    if (this.form) {
      this.showDraft();
    }
    this.desk.requestDraw();
  }

  undoPoint() {
    if (this.draft) {
      this.draft.points.pop();
      this.showDraft();
      this.desk.requestDraw();
    }
  }

  /** @returns {?Object} the fit of the draft's points (picks.js fitSinusoid), null before three azimuths. */
  draftFit() {
    return this.draft ? fitSinusoid(this.draft.points) : null;
  }

  /** The form's figures: points, d0, dip, dip azimuth, RMS of the live fit. */
  showDraft() {
    const fit = this.draftFit();
    const count = this.draft ? this.draft.points.length : 0;
    const unit = this.desk.unit;
    let text = count ? count + ' point' + (count > 1 ? 's' : '') : 'Click points along a feature on an image track.';
    if (fit) {
      const image = this.draft.track.image;
      const dip = dipOf(fit.amplitude, image.diameter);
      text += ' · depth ' + fit.depth.toFixed(this.desk.decimals + 2) + ' ' + unit +
        ' · dip ' + (dip === null ? '? (diameter unknown)' : dip.toFixed(1) + '°') +
        ' → ' + fit.dipAzimuth.toFixed(0) + '° · rms ' + fit.rms.toFixed(3) + ' ' + unit;
      Object.assign(this.figures.dataset, {
        depth: String(fit.depth), amplitude: String(fit.amplitude), dipAzimuth: String(fit.dipAzimuth),
        rms: String(fit.rms), dip: dip === null ? '' : String(dip),
      });
    } else if (count) {
      text += ' · at least three at different azimuths';
    }
    this.figures.textContent = text;
    this.figures.dataset.points = String(count);
    this.saveButton.disabled = !fit;
  }

  async saveDraft() {
    const fit = this.draftFit();
    if (!fit) {
      return;
    }
    const track = this.draft.track;
    const body = {
      points: this.draft.points.map((p) => ({azimuth: p.azimuth, depth: p.depth})),
      kind: this.kindSelect.value,
      confidence: this.confidenceSelect.value,
      comment: this.commentInput.value,
    };
    this.saveButton.disabled = true;
    this.say('Saving…');
    try {
      const pick = await this.write('POST', track.image.picks_url, body);
      this.say('Saved pick #' + pick.id + ' at ' + pick.depth.toFixed(this.desk.decimals + 2) + ' ' + this.desk.unit + '.');
      this.commentInput.value = '';
      this.draft = null;
      this.showDraft();
      if (this.listImage !== track.image.id) {
        this.imageSelect.value = String(track.image.id);
        this.listImage = track.image.id;
      }
      this.invalidate();
    } catch (error) {
      this.say('Not saved: ' + error.message, true);
      this.saveButton.disabled = false;
    }
  }

  // -- drawing ------------------------------------------------------------------------------

  /**
   * Draw an image track's saved picks and, on the track being picked, the
   * clicked points and the live sinusoid. Called by ImageTrack.draw after its tiles.
   * @param {ImageTrack} track
   * @param {CanvasRenderingContext2D} ctx - in device px (the track resets its transform).
   * @param {{view: DepthView, w: number, h: number, ratio: number}} place - CSS px and the pixel ratio.
   */
  drawOverlay(track, ctx, {view, w, h, ratio}) {
    const geometry = {width: w, turn: track.azimuth, offset: track.image.azimuth_offset || 0};
    const bottom = view.bottom(h);
    const picks = this.picksNear(track.image.id, view.top, bottom);
    ctx.save();
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.lineJoin = 'round';
    const drawn = [];
    for (const pick of picks) {
      if (pick.amplitude === null || pick.depth + pick.amplitude < view.top || pick.depth - pick.amplitude > bottom) {
        continue;
      }
      const sinusoid = {depth: pick.depth, amplitude: pick.amplitude, dipAzimuth: pick.dip_azimuth};
      this.stroke(ctx, sinusoidPolyline(sinusoid, geometry, view), kindColour(pick.kind), 2);
      drawn.push(pick.id);
    }
    track.canvas.dataset.picks = JSON.stringify(drawn);
    if (this.draft && this.draft.track === track) {
      const fit = this.draftFit();
      if (fit) {
        this.stroke(ctx, sinusoidPolyline(fit, geometry, view), '#ffffff', 4);
        this.stroke(ctx, sinusoidPolyline(fit, geometry, view), '#ff00ff', 2);
      }
      for (const point of this.draft.points) {
        const x = azimuthX(point.azimuth, w, geometry.turn, geometry.offset);
        const y = view.depthToY(point.depth);
        ctx.beginPath();
        ctx.arc(x, y, POINT_RADIUS, 0, 2 * Math.PI);
        ctx.fillStyle = '#ff00ff';
        ctx.strokeStyle = '#ffffff';
        ctx.lineWidth = 1.5;
        ctx.fill();
        ctx.stroke();
      }
    }
    ctx.restore();
  }

  /** Stroke polylines (CSS px). */
  stroke(ctx, lines, colour, width) {
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.beginPath();
    for (const line of lines) {
      line.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    }
    ctx.stroke();
  }

  // -- the panel ----------------------------------------------------------------------------

  /** Wire the toolbar's pick button, the pick form and the list (templates/tiles/well.html). */
  build() {
    this.pickButton = byId('ws-pick');
    this.form = byId('ws-pick-form');
    this.figures = byId('ws-pick-figures');
    this.kindSelect = byId('ws-pick-kind');
    this.confidenceSelect = byId('ws-pick-confidence');
    this.commentInput = byId('ws-pick-comment');
    this.saveButton = byId('ws-pick-save');
    this.message = byId('ws-picks-message');
    this.tokenInput = byId('ws-token');
    this.imageSelect = byId('ws-picks-image');
    this.exportLink = byId('ws-picks-export');
    this.tbody = byId('ws-picks-rows');
    this.fillSelect(this.kindSelect, this.kinds, this.kinds[0]);
    this.fillSelect(this.confidenceSelect, this.confidences, this.confidences.includes('medium') ? 'medium' : this.confidences[0]);
    this.tokenInput.value = window.localStorage.getItem(TOKEN_KEY) || '';
    byId('ws-forget-token').addEventListener('click', () => {
      window.localStorage.removeItem(TOKEN_KEY);
      this.tokenInput.value = '';
    });
    this.pickButton.addEventListener('click', () => this.setPicking(!this.picking));
    this.saveButton.addEventListener('click', () => this.saveDraft());
    byId('ws-pick-undo').addEventListener('click', () => this.undoPoint());
    byId('ws-pick-cancel').addEventListener('click', () => this.cancelDraft());
    window.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.picking && !(event.target.closest && event.target.closest('input, select, textarea'))) {
        if (this.draft && this.draft.points.length) {
          this.cancelDraft();
        } else {
          this.setPicking(false);
        }
      }
    });
    this.imageSelect.addEventListener('change', () => {
      this.listImage = Number(this.imageSelect.value);
      this.refreshList();
    });
    const first = [...this.desk.images.values()][0];
    this.listImage = first ? first.id : null;
    this.form.hidden = true;
    this.showDraft();
    this.refreshList();
  }

  fillSelect(select, values, chosen) {
    select.replaceChildren(...values.map((v) => el('option', {value: v, textContent: v})));
    select.value = chosen;
  }

  /** @param {string} text @param {boolean} [failed] */
  say(text, failed = false) {
    this.message.textContent = text;
    this.message.classList.toggle('ws-failed', failed);
  }

  /** Fetch the listed image's picks (all of them, every page) and show them. */
  async refreshList() {
    const image = this.desk.images.get(this.listImage);
    if (!image) {
      return;
    }
    this.exportLink.href = image.picks_csv_url;
    this.exportLink.setAttribute('download', 'picks-' + image.id + '.csv');
    const asked = this.listImage;
    try {
      const picks = await this.fetchAll(image.picks_url + '?limit=' + PAGE_LIMIT);
      if (asked === this.listImage) {
        this.listed = picks;
        this.showList();
      }
    } catch (error) {
      this.say('The picks could not be read: ' + error.message, true);
    }
  }

  showList() {
    const unit = this.desk.unit;
    const rows = this.listed.map((pick) => this.row(pick, unit));
    this.tbody.replaceChildren(...rows);
    byId('ws-picks-count').textContent = this.listed.length + ' pick' + (this.listed.length === 1 ? '' : 's');
    if (!rows.length) {
      this.tbody.append(el('tr', {}, el('td', {colSpan: 7, className: 'ws-muted'}, 'No picks yet: ✎ Pick, then click an image.')));
    }
  }

  /** A row of the list: a click jumps to its depth; Edit and Delete. */
  row(pick, unit) {
    const swatch = el('span', {className: 'ws-swatch'});
    swatch.style.background = kindColour(pick.kind);
    const edit = el('button', {type: 'button', className: 'ws-button ws-pick-edit', textContent: 'Edit'});
    const remove = el('button', {type: 'button', className: 'ws-button ws-pick-delete', textContent: 'Delete'});
    const tr = el('tr', {className: 'ws-pick-row', dataset: {id: String(pick.id), depth: String(pick.depth)}, title: 'Go to ' + fixed(pick.depth, 2) + ' ' + unit},
      el('td', {className: 'ws-num'}, fixed(pick.depth, this.desk.decimals + 2)),
      el('td', {className: 'ws-num'}, fixed(pick.dip, 1)),
      el('td', {className: 'ws-num'}, fixed(pick.dip_azimuth, 0)),
      el('td', {}, swatch, ' ', pick.kind),
      el('td', {}, pick.confidence),
      el('td', {className: 'ws-comment', title: pick.comment}, pick.comment),
      el('td', {className: 'ws-actions'}, edit, remove));
    tr.addEventListener('click', (event) => {
      if (!event.target.closest('button, input, select')) {
        this.jumpTo(pick.depth);
      }
    });
    edit.addEventListener('click', () => this.editRow(tr, pick));
    remove.addEventListener('click', () => {
      if (remove.dataset.armed) {
        this.remove(pick);
      } else {
        remove.dataset.armed = '1';
        remove.textContent = 'Sure?';
      }
    });
    return tr;
  }

  /** Centre the view on a depth. */
  jumpTo(depth) {
    const desk = this.desk;
    const h = desk.bodyHeight();
    desk.setView(new desk.view.constructor(depth - h / 2 / desk.view.pxPerUnit, desk.view.pxPerUnit));
  }

  /** Edit a row in place: kind, confidence, comment; Save sends a PATCH. */
  editRow(tr, pick) {
    const kind = el('select', {className: 'ws-edit-kind'});
    this.fillSelect(kind, this.kinds, pick.kind);
    const confidence = el('select', {className: 'ws-edit-confidence'});
    this.fillSelect(confidence, this.confidences, pick.confidence);
    const comment = el('input', {type: 'text', className: 'ws-edit-comment', value: pick.comment, maxLength: 2000});
    const save = el('button', {type: 'button', className: 'ws-button ws-edit-save', textContent: 'Save'});
    const cancel = el('button', {type: 'button', className: 'ws-button', textContent: 'Cancel'});
    const cells = tr.children;
    cells[3].replaceChildren(kind);
    cells[4].replaceChildren(confidence);
    cells[5].replaceChildren(comment);
    cells[6].replaceChildren(save, cancel);
    cancel.addEventListener('click', () => this.showList());
    save.addEventListener('click', async () => {
      try {
        await this.write('PATCH', pick.url, {kind: kind.value, confidence: confidence.value, comment: comment.value});
        this.say('Pick #' + pick.id + ' changed.');
        this.invalidate();
      } catch (error) {
        this.say('Not changed: ' + error.message, true);
      }
    });
  }

  async remove(pick) {
    try {
      await this.write('DELETE', pick.url);
      this.say('Pick #' + pick.id + ' deleted.');
      this.invalidate();
    } catch (error) {
      this.say('Not deleted: ' + error.message, true);
    }
  }
}
