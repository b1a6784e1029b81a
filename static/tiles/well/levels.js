/**
 * Which tiles an image track draws: the pyramid level for the depth scale and
 * the track's width, and the tiles that cover the depth range in view. Pure: no DOM.
 *
 * The pyramid (tiles/core/pyramid.py zoom_levels, large_image's convention):
 * levels z = 0..zooms - 1, z = 0 the coarsest; level z is page p = zooms - 1 - z,
 * each of its pixels the mean of 2^p x 2^p stored pixels, and its tile (x, y)
 * covers stored columns [x, x + 1) * 256 * 2^p and rows [y, y + 1) * 256 * 2^p.
 * @module levels
 */

/** Tiles one image track may draw at once: past it, a coarser level. */
export const MAX_TILES = 96;

/**
 * Number of levels of an image: the mirror of tiles/core/pyramid.py zoom_levels.
 * @param {number} columns @param {number} rows - stored size (px).
 * @param {number} tileSize - tile side (px).
 * @returns {number} >= 1.
 */
export function zoomLevels(columns, rows, tileSize) {
  return Math.max(1, Math.ceil(Math.log2(Math.max(columns / tileSize, rows / tileSize))) + 1);
}

/**
 * The page (0 = full resolution) for a track: the coarsest whose pixels are still
 * no smaller than a device pixel in either direction, so nothing is lost to
 * subsampling; coarser only to stay within maxTiles.
 *
 * @param {Object} options
 * @param {number} options.rowsPerPx - stored rows per device pixel in depth (> 0).
 * @param {number} options.columnsPerPx - stored columns per device pixel across the track.
 * @param {number} options.zooms - levels of the image (zoomLevels).
 * @param {function(number): number} options.tileCount - tiles needed at a page.
 * @param {number} [options.maxTiles] - MAX_TILES by default.
 * @returns {number} page in [0, zooms - 1].
 */
export function choosePage({rowsPerPx, columnsPerPx, zooms, tileCount, maxTiles = MAX_TILES}) {
  const finest = Math.min(rowsPerPx, columnsPerPx);
  let page = finest >= 1 ? Math.floor(Math.log2(finest) + 1e-9) : 0;
  page = Math.min(zooms - 1, Math.max(0, page));
  while (page < zooms - 1 && tileCount(page) > maxTiles) {
    page += 1;
  }
  return page;
}

/**
 * The tiles of a page that cover stored rows [rowTop, rowBottom) (fractional,
 * unclamped) and every column.
 *
 * @param {Object} options
 * @param {number} options.rows @param {number} options.columns - stored size.
 * @param {number} options.tileSize - tile side (px).
 * @param {number} options.zooms - levels. @param {number} options.page - 0 = full resolution.
 * @param {number} options.rowTop - first stored row in view (fractional).
 * @param {number} options.rowBottom - stored row past the view (fractional).
 * @returns {{z: number, span: number, xs: number[], ys: number[]}} the level z,
 *   the stored pixels one tile covers per side, and the tile columns and rows
 *   (empty ys when the view misses the image).
 */
export function tileRange({rows, columns, tileSize, zooms, page, rowTop, rowBottom}) {
  const span = tileSize * Math.pow(2, page);
  const lastY = Math.ceil(rows / span) - 1;
  const lastX = Math.ceil(columns / span) - 1;
  const first = Math.max(0, Math.floor(rowTop / span));
  const last = Math.min(lastY, Math.ceil(rowBottom / span) - 1);
  const range = (a, b) => Array.from({length: Math.max(0, b - a + 1)}, (_, i) => a + i);
  return {z: zooms - 1 - page, span: span, xs: range(0, lastX), ys: range(first, last)};
}

/**
 * Level and tiles of an image track for a view.
 *
 * @param {Object} image - rows, columns, tileSize, zooms.
 * @param {{rowTop: number, rowBottom: number}} rowsInView - stored rows at the
 *   track's top and bottom edges (fractional; DepthAxis.depthToRow of the edges + 0.5).
 * @param {{width: number, height: number, ratio: number}} box - the track's CSS
 *   size and the device pixel ratio.
 * @returns {{page: number, z: number, span: number, xs: number[], ys: number[]}}
 */
export function tilesForView(image, rowsInView, box) {
  const heightPx = Math.max(1, box.height * box.ratio);
  const widthPx = Math.max(1, box.width * box.ratio);
  const range = (page) => tileRange({...image, page: page, ...rowsInView});
  const page = choosePage({
    rowsPerPx: (rowsInView.rowBottom - rowsInView.rowTop) / heightPx,
    columnsPerPx: image.columns / widthPx,
    zooms: image.zooms,
    tileCount: (p) => {
      const r = range(p);
      return r.xs.length * r.ys.length;
    },
  });
  return {page: page, ...range(page)};
}
