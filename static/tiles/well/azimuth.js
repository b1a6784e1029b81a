/**
 * Azimuth across an image track: the header's compass ticks and the horizontal
 * pan that wraps around the borehole. Pure: no DOM.
 *
 * Convention (static/tiles/viewer/axis.js columnAzimuth): the columns cover the
 * borehole wall once, clockwise from the reference direction (north or the high
 * side); column c spans [c, c + 1) x 360 / columns degrees. A track turned by
 * an offset of a degrees shows azimuth a at its left edge, a + 360 at its right.
 * @module azimuth
 */

/** The labelled azimuths of the header. */
export const COMPASS = Object.freeze([[0, 'N'], [90, 'E'], [180, 'S'], [270, 'W']]);

/** @param {number} degrees @returns {number} the same direction in [0, 360). */
export function wrapDegrees(degrees) {
  const wrapped = ((degrees % 360) + 360) % 360;
  return wrapped === 360 ? 0 : wrapped;
}

/**
 * Screen x of the compass ticks in a track turned by an offset.
 * @param {number} offset - azimuth at the left edge (degrees).
 * @param {number} width - track width (CSS px).
 * @returns {Array<{x: number, degrees: number, label: string}>} by x, in [0, width).
 */
export function azimuthTicks(offset, width) {
  return COMPASS.map(([degrees, label]) => ({
    x: wrapDegrees(degrees - offset) / 360 * width,
    degrees: degrees,
    label: label,
  })).sort((a, b) => a.x - b.x);
}

/**
 * Azimuth at a screen x of a turned track.
 * @param {number} x - CSS px from the track's left edge. @param {number} width
 * @param {number} offset - degrees. @returns {number} degrees in [0, 360).
 */
export function azimuthAt(x, width, offset) {
  return wrapDegrees(x / width * 360 + offset);
}

/**
 * The stored column (sector) under a screen x of a turned track.
 * @param {number} x @param {number} width @param {number} offset - degrees.
 * @param {number} columns - columns of the image.
 * @returns {number} integer in [0, columns - 1].
 */
export function columnAt(x, width, offset, columns) {
  return Math.min(columns - 1, Math.floor(azimuthAt(x, width, offset) / 360 * columns));
}

/**
 * Where the image is drawn so that it wraps: twice, side by side, the seam at
 * the screen x of azimuth 0 (the track clips both copies to its width).
 * @param {number} offset - degrees. @param {number} width - CSS px.
 * @returns {number[]} the screen x of column 0's left edge for each copy.
 */
export function seamShifts(offset, width) {
  const left = -wrapDegrees(offset) / 360 * width;
  return left === 0 ? [0] : [left, left + width];
}

/**
 * The offset after dragging a track by dx CSS px (content follows the mouse).
 * @param {number} offset - degrees. @param {number} dx - CSS px. @param {number} width
 * @returns {number} degrees in [0, 360).
 */
export function dragOffset(offset, dx, width) {
  return wrapDegrees(offset - dx / width * 360);
}
