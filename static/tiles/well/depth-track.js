/**
 * The depth track: labelled major ticks, minor ticks, and the depth under the
 * cursor. Its tick spacing (ticks.js niceStep) is the frame's, shared with the
 * grid lines of the curve tracks.
 * @module depth-track
 */

import {axisCanvas} from '../viewer/canvas.js';
import {multiplesIn} from '../viewer/ticks.js';
import {Track} from './track.js';

/** Screen px between minor ticks, at least (closer ones are not drawn). */
const MIN_MINOR_SPACING = 4;

export class DepthTrack extends Track {
  /** @param {Object} desk @param {number} width @param {string} unit - depth unit. */
  constructor(desk, width, unit) {
    super(desk, 'depth', 'Depth', width);
    this.unit = unit;
    this.details.hidden = true;
    this.headBody.append('(' + unit + ')');
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', 'Depth axis in ' + unit);
  }

  /**
   * @param {{view: DepthView, ticks: {step: number, decimals: number, minor: number},
   *   extent: {min: number, max: number}}} frame
   * @returns {boolean}
   */
  draw(frame) {
    const {ctx, w, h} = axisCanvas(this.canvas, {align: 'right', baseline: 'middle'});
    const {view, ticks} = frame;
    const lineY = (depth) => Math.round(view.depthToY(depth)) + 0.5;  // a crisp 1 px line
    const first = view.top;
    const last = view.bottom(h);
    const minorStep = ticks.step / ticks.minor;
    ctx.beginPath();
    ctx.moveTo(w - 0.5, 0);
    ctx.lineTo(w - 0.5, h);
    if (minorStep * view.pxPerUnit >= MIN_MINOR_SPACING) {
      for (const depth of multiplesIn(first, last, minorStep)) {
        ctx.moveTo(w - 5, lineY(depth));
        ctx.lineTo(w, lineY(depth));
      }
    }
    const labelled = multiplesIn(first, last, ticks.step);
    for (const depth of labelled) {
      ctx.moveTo(w - 10, lineY(depth));
      ctx.lineTo(w, lineY(depth));
      ctx.fillText(depth.toFixed(ticks.decimals), w - 13, Math.min(h - 8, Math.max(8, lineY(depth))));
    }
    ctx.stroke();
    // For the tests and the console: the labelled depths and their screen rows.
    this.canvas.dataset.ticks = JSON.stringify(labelled.map((d) => [Number(d.toFixed(9)), lineY(d) - 0.5]));
    return true;
  }

  /** @param {?{depth: number, text: string}} cursor */
  showReadout(cursor) {
    this.setReadout(cursor ? cursor.text + ' ' + this.unit : '', cursor ? {depth: cursor.text} : {});
  }
}
