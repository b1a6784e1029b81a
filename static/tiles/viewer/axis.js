/**
 * The depth axis of an image log, in the viewer: the JavaScript mirror of
 * ingest/axis.py's DepthAxis, and the only place in the viewer that turns a row
 * into a depth or back. Pure: no DOM.
 *
 * Convention (ingest/axis.py): row r (row 0 the shallowest) stands for the depth
 * depthMin + r * depthStep, in the upload's depth unit. On the map (GeoJS in
 * pixel space, y growing downward) row r covers y in [r, r + 1): its depth sits
 * at the middle of the row, y = r + 0.5.
 * @module axis
 */

import {decimalsOf} from './ticks.js';

export class DepthAxis {
  /**
   * @param {{depthMin: number, depthStep: number, rows: number}} axis - depth of
   *   row 0, depth between consecutive rows (> 0), number of rows (>= 1).
   * @throws {RangeError} a bound that is not finite, a step <= 0, or rows < 1.
   */
  constructor({depthMin, depthStep, rows}) {
    if (!Number.isFinite(depthMin) || !(depthStep > 0) || !Number.isFinite(depthStep) ||
        !Number.isInteger(rows) || rows < 1) {
      throw new RangeError(
        'not a depth axis: depthMin=' + depthMin + ', depthStep=' + depthStep + ', rows=' + rows);
    }
    this.depthMin = depthMin;
    this.depthStep = depthStep;
    this.rows = rows;
    /** Decimals that write any row's depth exactly (0.1 -> 1, 0.0025 -> 4). */
    this.decimals = decimalsOf(depthStep);
    /** Depth of the last row, rounded to 9 decimals against float noise (as in Python). */
    this.depthMax = Number((depthMin + (rows - 1) * depthStep).toFixed(9));
  }

  /**
   * The axis of the viewer's page configuration (tiles/views.py).
   * @param {{depth_min: number, depth_step: number, rows: number}} config
   * @returns {DepthAxis}
   */
  static fromConfig(config) {
    return new DepthAxis({depthMin: config.depth_min, depthStep: config.depth_step, rows: config.rows});
  }

  /**
   * Depth of a row; a fractional row gives the depth in between.
   * @param {number} row - 0 is the shallowest row.
   * @returns {number} depth in the log's unit.
   */
  rowToDepth(row) {
    return this.depthMin + row * this.depthStep;
  }

  /**
   * Row (fractional) of a depth: the inverse of rowToDepth, not rounded or clamped.
   * @param {number} depth - in the log's unit.
   * @returns {number}
   */
  depthToRow(depth) {
    return (depth - this.depthMin) / this.depthStep;
  }

  /**
   * The row nearest a depth, clamped to the log.
   * @param {number} depth - in the log's unit.
   * @returns {number} an integer row in [0, rows - 1].
   */
  rowAt(depth) {
    return this.clampRow(Math.round(this.depthToRow(depth)));
  }

  /** @param {number} row @returns {number} the row clamped to [0, rows - 1]. */
  clampRow(row) {
    return Math.min(this.rows - 1, Math.max(0, row));
  }

  /** @param {number} depth @returns {number} the depth clamped to [depthMin, depthMax]. */
  clampDepth(depth) {
    return Math.min(this.depthMax, Math.max(this.depthMin, depth));
  }

  /**
   * Map y (image pixels) of the middle of the row sampled at a depth.
   * @param {number} depth @returns {number}
   */
  depthToY(depth) {
    return this.depthToRow(depth) + 0.5;
  }

  /**
   * Depth at a map y (image pixels): y = r + 0.5 is row r's depth.
   * @param {number} y @returns {number}
   */
  yToDepth(y) {
    return this.rowToDepth(y - 0.5);
  }

  /**
   * The rows a view shows at least in part, clamped to the log.
   * @param {number} topY - map y of the view's top edge (image pixels).
   * @param {number} bottomY - map y of its bottom edge.
   * @returns {{top: number, bottom: number}} first and last row, top <= bottom
   *   for a view that overlaps the log.
   */
  rowsInView(topY, bottomY) {
    return {top: this.clampRow(Math.floor(topY)), bottom: this.clampRow(Math.ceil(bottomY) - 1)};
  }

  /**
   * A depth written with the axis's decimals ("9000.1" for a 0.1 m step).
   * @param {number} depth @returns {string}
   */
  format(depth) {
    return depth.toFixed(this.decimals);
  }
}

/**
 * Azimuth in degrees of the middle of a column. The columns of an image log are
 * taken to cover the borehole wall once, clockwise from the reference direction
 * (north or the high side): column c spans [c, c + 1) x 360 / columns degrees.
 *
 * @param {number} column - 0 is the first azimuth sector.
 * @param {number} columns - number of columns of the image.
 * @returns {number} degrees in (0, 360).
 */
export function columnAzimuth(column, columns) {
  return (column + 0.5) * 360 / columns;
}
