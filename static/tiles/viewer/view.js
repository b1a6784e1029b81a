/**
 * Arithmetic of the map's view: zoom, horizontal stretch, the opening view.
 * Pure: no DOM, no GeoJS.
 *
 * GeoJS zoom z shows 2^(z - maxLevel) screen pixels per image row (maxLevel:
 * full resolution). The horizontal stretch k declares columns k units wide
 * (x = k * column), so a long, narrow log can be seen whole at a readable width;
 * the depth scale does not change.
 * @module view
 */

/** Horizontal stretch choices. */
export const STRETCHES = [1, 2, 4, 8, 16];
/** Screen px: the automatic stretch aims at this log width. */
export const STRETCH_TARGET = 240;
/** Screen px: a log narrower than this when fitted opens at its top, not whole. */
export const MIN_START_WIDTH = 12;
/** Levels past full resolution (8 screen px per pixel). */
export const EXTRA_ZOOM = 3;

/**
 * Screen px per image row at a zoom (also per column before the stretch).
 * @param {number} zoom @param {number} maxLevel @returns {number}
 */
export function scaleAt(zoom, maxLevel) {
  return Math.pow(2, zoom - maxLevel);
}

/**
 * The zoom range of the map: far enough in to see single pixels, far enough out
 * to fit a short log to the height.
 * @param {{rows: number, height: number, maxLevel: number, min: number}} args -
 *   image rows, map height (screen px), full-resolution level, GeoJS's own minimum.
 * @returns {{min: number, max: number}}
 */
export function zoomRange({rows, height, maxLevel, min}) {
  const fit = maxLevel + Math.log2(Math.max(1, height) / rows);
  return {min: Math.min(min, Math.floor(fit)), max: Math.max(maxLevel + EXTRA_ZOOM, Math.ceil(fit))};
}

/**
 * The whole log fitted to the map height; a log that would be narrower than
 * MIN_START_WIDTH opens at its top at that width instead.
 * @param {{rows: number, columns: number, stretch: number, maxLevel: number,
 *   height: number}} args - image size (px), stretch, full-resolution level,
 *   map height (screen px).
 * @returns {{zoom: number, center: {x: number, y: number}}} in map units.
 */
export function fitView({rows, columns, stretch, maxLevel, height}) {
  const width = columns * stretch;
  let zoom = maxLevel + Math.log2(height / rows);
  let centerY = rows / 2;
  if (width * scaleAt(zoom, maxLevel) < MIN_START_WIDTH) {
    zoom = maxLevel + Math.log2(MIN_START_WIDTH / width);
    centerY = height / scaleAt(zoom, maxLevel) / 2;
  }
  return {zoom: zoom, center: {x: width / 2, y: centerY}};
}

/**
 * The stretch that shows the whole log about STRETCH_TARGET px wide (never wider
 * than half the map), so a long narrow log opens readable.
 * @param {{rows: number, columns: number, width: number, height: number}} args -
 *   image size (px), map size (screen px).
 * @returns {number} one of STRETCHES.
 */
export function autoStretch({rows, columns, width, height}) {
  const fitScale = height / rows;
  const target = Math.min(STRETCH_TARGET, width / 2);
  let best = 1;
  for (const k of STRETCHES) {
    if (columns * k * fitScale <= target) {
      best = k;
    }
  }
  return best;
}
