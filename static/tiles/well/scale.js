/**
 * The shared depth axis of the workstation's tracks: depth scales (1:200...),
 * the view (depth at the top edge, CSS px per depth unit), zoom and pan.
 * Pure: no DOM.
 *
 * A scale 1:N means N units of depth on the ground for one unit on the screen,
 * the screen measured at the CSS reference of 96 px per inch (CSS Values 4,
 * "absolute lengths"): 1 m at 1:1 is 1 / 0.0254 in = 3779.53 CSS px, so 18.90
 * px at 1:200; 1 ft is 0.3048 m.
 * @module scale
 */

/** CSS px per inch (the CSS reference pixel). */
export const CSS_PX_PER_INCH = 96;
/** Metres per inch. */
export const METRES_PER_INCH = 0.0254;
/** Metres in one depth unit. */
export const METRES_PER_UNIT = Object.freeze({m: 1, ft: 0.3048});
/** The preset scales, 1:N. */
export const PRESETS = Object.freeze([20, 50, 100, 200, 500, 1000]);
/** The scale N of 1:N stays within these bounds (free zoom included). */
export const RATIO_BOUNDS = Object.freeze({min: 1, max: 1e6});

/**
 * CSS px per depth unit at a scale.
 * @param {number} ratio - N of 1:N (> 0).
 * @param {string} unit - depth unit, "m" or "ft" (another unit is read as m).
 * @returns {number} CSS px per depth unit (18.8976 for 1:200 in m).
 */
export function pxPerUnitAt(ratio, unit) {
  const metres = METRES_PER_UNIT[unit] || 1;
  return CSS_PX_PER_INCH / METRES_PER_INCH * metres / ratio;
}

/**
 * The scale of a view: the inverse of pxPerUnitAt.
 * @param {number} pxPerUnit - CSS px per depth unit. @param {string} unit
 * @returns {number} N of 1:N.
 */
export function ratioOf(pxPerUnit, unit) {
  const metres = METRES_PER_UNIT[unit] || 1;
  return CSS_PX_PER_INCH / METRES_PER_INCH * metres / pxPerUnit;
}

/**
 * A view of the depth axis: the depth at the top edge of the tracks and the
 * CSS px per depth unit. Screen y grows downward with depth.
 */
export class DepthView {
  /**
   * @param {number} top - depth at y = 0, in the depth unit.
   * @param {number} pxPerUnit - CSS px per depth unit (> 0).
   */
  constructor(top, pxPerUnit) {
    this.top = top;
    this.pxPerUnit = pxPerUnit;
  }

  /** @param {number} depth @returns {number} screen y (CSS px) of a depth. */
  depthToY(depth) {
    return (depth - this.top) * this.pxPerUnit;
  }

  /** @param {number} y - CSS px from the top edge. @returns {number} the depth there. */
  yToDepth(y) {
    return this.top + y / this.pxPerUnit;
  }

  /** @param {number} height - CSS px. @returns {number} the depth at the bottom edge. */
  bottom(height) {
    return this.yToDepth(height);
  }

  /**
   * Zoom by a factor keeping the depth at screen y in place.
   * @param {number} factor - > 1 zooms in. @param {number} y - CSS px.
   * @returns {DepthView}
   */
  zoomAbout(factor, y) {
    const depth = this.yToDepth(y);
    const pxPerUnit = this.pxPerUnit * factor;
    return new DepthView(depth - y / pxPerUnit, pxPerUnit);
  }

  /**
   * Move the content by dy CSS px (a drag downward shows shallower depths).
   * @param {number} dy @returns {DepthView}
   */
  panBy(dy) {
    return new DepthView(this.top - dy / this.pxPerUnit, this.pxPerUnit);
  }

  /**
   * This view at another scale, the depth in the middle kept.
   * @param {number} pxPerUnit @param {number} height - CSS px of the tracks.
   * @returns {DepthView}
   */
  withScale(pxPerUnit, height) {
    const middle = this.yToDepth(height / 2);
    return new DepthView(middle - height / 2 / pxPerUnit, pxPerUnit);
  }
}

/**
 * The view that shows a whole depth range in a height.
 * @param {{min: number, max: number}} extent - depth range, min < max.
 * @param {number} height - CSS px (> 0).
 * @returns {DepthView}
 */
export function fitView(extent, height) {
  const span = Math.max(extent.max - extent.min, 1e-9);
  return new DepthView(extent.min, height / span);
}

/**
 * Keep a view usable: the scale within RATIO_BOUNDS and at most fit / 4 out, and
 * the log filling the tracks: a view shorter than the extent stays within it
 * (as a log analyst's tools scroll, never past the ends); a longer one starts
 * at the extent's top.
 * @param {DepthView} view @param {{min: number, max: number}} extent
 * @param {number} height - CSS px. @param {string} unit
 * @returns {DepthView}
 */
export function clampView(view, extent, height, unit) {
  const fit = fitView(extent, height).pxPerUnit;
  const lowest = Math.max(pxPerUnitAt(RATIO_BOUNDS.max, unit), fit / 4);
  const highest = pxPerUnitAt(RATIO_BOUNDS.min, unit);
  const pxPerUnit = Math.min(highest, Math.max(lowest, view.pxPerUnit));
  const scaled = pxPerUnit === view.pxPerUnit ? view : view.withScale(pxPerUnit, height);
  const span = height / pxPerUnit;
  const top = Math.max(extent.min, Math.min(extent.max - span, scaled.top));
  return new DepthView(top, pxPerUnit);
}
