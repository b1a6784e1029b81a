/**
 * The tadpole track of an image's picks (?t=...,picks:<image id>): dip on the
 * horizontal axis, 0 to 90 degrees left to right; each pick a dot at (dip,
 * depth) coloured by kind, with a tail towards its dip azimuth, north up
 * (picks.js tadpole). True dips when asked for and known, else apparent (hollow
 * dots for apparent dips when true ones were asked for). Filter by kind in ⚙.
 * @module tadpole-track
 */

import {axisCanvas, sizeCanvas} from '../viewer/canvas.js';
import {DIP_AXIS, kindColour, tadpole, tadpoleAngles} from './picks.js';
import {Track, el} from './track.js';

/** Tail length and dot radius (CSS px). */
const TAIL = 12;
const DOT = 3.5;
/** Grid lines of the dip axis (degrees). */
const GRID = [0, 30, 60, 90];

export class TadpoleTrack extends Track {
  /**
   * @param {Object} desk - the workstation (its picks: pick-layer.js).
   * @param {Object} image - the image's page configuration.
   * @param {{width: number, kinds: ?string[], trueDip: boolean}} options - the layout (state.js).
   * @param {string[]} kinds - the kinds there are.
   */
  constructor(desk, image, options, kinds) {
    super(desk, 'picks', 'Dips · ' + image.name, options.width);
    this.image = image;
    this.allKinds = kinds;
    this.kinds = options.kinds ? options.kinds.filter((k) => kinds.includes(k)) : null;
    this.trueDip = Boolean(options.trueDip);
    this.element.dataset.id = String(image.id);
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', 'Tadpoles of the picks of ' + image.name);
    this.scaleCanvas = el('canvas', {className: 'ws-azimuth ws-dip-scale'});
    this.headBody.append(el('div', {className: 'ws-legend-unit'}, 'dip (°) · tail: dip azimuth, N up'), this.scaleCanvas);
    this.buildSettings();
  }

  buildSettings() {
    const boxes = this.allKinds.map((kind) => {
      const box = el('input', {type: 'checkbox', checked: !this.kinds || this.kinds.includes(kind), value: kind});
      const swatch = el('span', {className: 'ws-swatch'});
      swatch.style.background = kindColour(kind);
      return {box: box, label: el('label', {className: 'ws-field ws-kind'}, box, swatch, el('span', {}, kind))};
    });
    const trueBox = el('input', {type: 'checkbox', checked: this.trueDip, className: 'ws-true-dip'});
    const apply = () => {
      const chosen = boxes.filter((b) => b.box.checked).map((b) => b.box.value);
      this.kinds = chosen.length === this.allKinds.length ? null : chosen;
      this.trueDip = trueBox.checked;
      this.desk.changed();
    };
    for (const input of [...boxes.map((b) => b.box), trueBox]) {
      input.addEventListener('change', apply);
    }
    this.settings.append(...boxes.map((b) => b.label),
      el('label', {className: 'ws-field'}, el('span', {}, 'True dip (survey)'), trueBox));
  }

  /** @param {{view: DepthView}} frame @returns {boolean} */
  draw(frame) {
    this.drawScale();
    const {ctx, w, h} = sizeCanvas(this.canvas);
    const view = frame.view;
    const styles = getComputedStyle(this.canvas);
    ctx.strokeStyle = styles.getPropertyValue('--grid') || '#d0d0d0';
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (const dip of GRID) {
      const x = Math.round(tadpole(dip, 0, 0, w, 0).x) + 0.5;
      ctx.moveTo(x, 0);
      ctx.lineTo(x, h);
    }
    ctx.stroke();
    const bottom = view.bottom(h);
    const picks = this.desk.picks.picksNear(this.image.id, view.top, bottom);
    const drawn = [];
    for (const pick of picks) {
      const angles = tadpoleAngles(pick, this.trueDip);
      if (!angles || pick.depth < view.top || pick.depth > bottom || (this.kinds && !this.kinds.includes(pick.kind))) {
        continue;
      }
      const t = tadpole(angles.dip, angles.azimuth, view.depthToY(pick.depth), w, TAIL);
      const colour = kindColour(pick.kind);
      ctx.strokeStyle = colour;
      ctx.fillStyle = colour;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(t.x, t.y);
      ctx.lineTo(t.tailX, t.tailY);
      ctx.stroke();
      ctx.beginPath();
      ctx.arc(t.x, t.y, DOT, 0, 2 * Math.PI);
      if (this.trueDip && !angles.true) {
        ctx.fillStyle = '#ffffff';
      }
      ctx.fill();
      ctx.stroke();
      drawn.push([pick.id, Number(t.x.toFixed(2)), Number(t.y.toFixed(2))]);
    }
    // For the tests: each tadpole's pick id and screen x, y (CSS px).
    this.canvas.dataset.tadpoles = JSON.stringify(drawn);
    return true;
  }

  /** The header's dip scale: 0 30 60 90. */
  drawScale() {
    const {ctx, w, h} = axisCanvas(this.scaleCanvas, {font: '11px sans-serif', baseline: 'top'});
    ctx.beginPath();
    for (const dip of GRID) {
      const x = Math.round(tadpole(dip, 0, 0, w, 0).x) + 0.5;
      ctx.moveTo(x, h - 6);
      ctx.lineTo(x, h);
      ctx.textAlign = dip === DIP_AXIS.min ? 'left' : (dip === DIP_AXIS.max ? 'right' : 'center');
      ctx.fillText(String(dip), dip === DIP_AXIS.min ? x - 3 : (dip === DIP_AXIS.max ? x + 3 : x), 1);
    }
    ctx.stroke();
  }

  /** @param {?{depth: number, text: string}} cursor */
  showReadout(cursor) {
    this.setReadout(cursor ? cursor.text : '');
  }

  state() {
    return {kind: 'picks', id: this.image.id, width: this.width, kinds: this.kinds, trueDip: this.trueDip};
  }
}
