/**
 * The depth track beside the map: an axis with labelled major ticks and minor
 * ticks over the log's extent in view, and grid lines that lead the eye from the
 * axis to the log (never over it). Follows pan and zoom: redrawn on every change.
 * @module depth-track
 */

import {axisCanvas, sizeCanvas} from './canvas.js';
import {multiplesIn, niceStep} from './ticks.js';

/** Screen px between depth labels, at least. */
const MIN_LABEL_SPACING = 40;
/** Screen px between minor ticks, at least (closer ones are not drawn). */
const MIN_MINOR_SPACING = 4;

/**
 * Draw the depth axis on the track canvas and the grid lines on the grid canvas
 * (over the map), in their CSS colours and font.
 *
 * @param {HTMLCanvasElement} track - the depth track, beside the map, as tall.
 * @param {HTMLCanvasElement} grid - over the map, as large.
 * @param {DepthAxis} axis - the log's depth axis.
 * @param {Object} view - DepthMap.geometry(): topY, bottomY, pxPerRow, logLeft, logRight.
 * @returns {{step: number, decimals: number, minor: number}} the spacing of the
 *   labelled ticks (ticks.js niceStep), in the log's unit.
 */
export function drawDepthTrack(track, grid, axis, view) {
  const {ctx, w, h} = axisCanvas(track, {align: 'right', baseline: 'middle'});
  const pxPerUnit = view.pxPerRow / axis.depthStep;
  const ticks = niceStep(MIN_LABEL_SPACING / pxPerUnit);
  const screenY = (depth) => (axis.depthToY(depth) - view.topY) * view.pxPerRow;
  const lineY = (depth) => Math.round(screenY(depth)) + 0.5;  // a crisp 1 px line

  // The axis line along the log's extent in view.
  ctx.beginPath();
  ctx.moveTo(w - 0.5, Math.max(0, screenY(axis.depthMin)));
  ctx.lineTo(w - 0.5, Math.min(h, screenY(axis.depthMax)));
  ctx.stroke();

  // Ticks only where the log has data: from its first to its last scanline.
  const first = Math.max(axis.depthMin, axis.yToDepth(view.topY));
  const last = Math.min(axis.depthMax, axis.yToDepth(view.bottomY));
  const minorStep = ticks.step / ticks.minor;
  if (minorStep * pxPerUnit >= MIN_MINOR_SPACING) {
    ctx.beginPath();
    for (const depth of multiplesIn(first, last, minorStep)) {
      ctx.moveTo(w - 5, lineY(depth));
      ctx.lineTo(w, lineY(depth));
    }
    ctx.stroke();
  }
  const labelled = multiplesIn(first, last, ticks.step);
  ctx.beginPath();
  for (const depth of labelled) {
    const y = lineY(depth);
    ctx.moveTo(w - 10, y);
    ctx.lineTo(w, y);
    ctx.fillText(depth.toFixed(ticks.decimals), w - 13, Math.min(h - 8, Math.max(8, y)));
  }
  ctx.stroke();
  drawGridLines(grid, labelled.map(lineY), view);
  return ticks;
}

/**
 * Grid lines across the map at the labelled depths, beside the log, never over it.
 * @param {HTMLCanvasElement} grid - over the map, as large.
 * @param {number[]} ys - screen y of each line.
 * @param {{logLeft: number, logRight: number}} view - the log's edges on screen.
 */
function drawGridLines(grid, ys, view) {
  const {ctx, w} = sizeCanvas(grid);
  ctx.strokeStyle = getComputedStyle(grid).color;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const y of ys) {
    if (view.logLeft > 0) {
      ctx.moveTo(0, y);
      ctx.lineTo(Math.min(view.logLeft - 3, w), y);
    }
    if (view.logRight < w) {
      ctx.moveTo(Math.max(view.logRight + 3, 0), y);
      ctx.lineTo(w, y);
    }
  }
  ctx.stroke();
}
