/**
 * The GeoJS map of the tile pyramid, in pixel space.
 *
 * With geo.util.pixelCoordinateParams the map's gcs is image pixels, x = column
 * and y = row, growing downward (y = 0 is the top edge of row 0; axis.js turns y
 * into depth). Each column is drawn `stretch` units wide (view.js): tiles are
 * declared stretch x tileSize wide, so GeoJS draws them stretched while rows,
 * and so the depth scale, keep their size.
 * @module map
 */

import {fitView, zoomRange} from './view.js';

export class DepthMap {
  /**
   * @param {Object} geo - GeoJS (window.geo).
   * @param {HTMLElement} node - the map's element; its data-state is "loading"
   *   until the tiles in view are drawn, then "ready".
   * @param {{axis: DepthAxis, columns: number, tileSize: number,
   *   onChange: function()}} options - the depth axis, image columns, tile side
   *   (px), and what to call after every pan, zoom or resize.
   */
  constructor(geo, node, {axis, columns, tileSize, onChange}) {
    this.geo = geo;
    this.node = node;
    this.axis = axis;
    this.columns = columns;
    this.tileSize = tileSize;
    this.onChange = onChange;
    this.stretch = 1;  // width of a column on screen, in row heights
    this.map = null;
    this.layer = null;
    this.maxLevel = 0;
    this.lastView = null;  // {zoom, center} after the last change: what a resize keeps
  }

  /**
   * (Re)create the map at a stretch, drawing tiles from tileUrl.
   * @param {number} stretch - one of view.js's STRETCHES.
   * @param {string} tileUrl - GeoJS's {z}/{x}/{y} template.
   * @param {?{depth: number, zoom: number}} keep - the depth to centre and the
   *   zoom to keep; null: the whole log (fitView).
   */
  build(stretch, tileUrl, keep) {
    if (this.map) {
      this.map.exit();
    }
    this.stretch = stretch;
    const params = this.geo.util.pixelCoordinateParams(
      this.node, this.columns * stretch, this.axis.rows, this.tileSize * stretch, this.tileSize);
    // An image smaller than a tile is one tile at level 0 (GeoJS would say level < 0).
    this.maxLevel = Math.max(0, params.layer.maxLevel);
    params.layer.maxLevel = this.maxLevel;
    params.map.unitsPerPixel = Math.pow(2, this.maxLevel);
    const range = zoomRange({
      rows: this.axis.rows, height: this.node.clientHeight, maxLevel: this.maxLevel, min: params.map.min,
    });
    params.map.max = range.max;
    params.map.min = range.min;
    params.map.zoom = range.min;
    params.map.allowRotation = false;
    params.layer.url = tileUrl;
    this.map = this.geo.map(params.map);
    this.layer = this.map.createLayer('osm', params.layer);
    this.map.geoOn(this.geo.event.pan, this.onChange);
    this.map.geoOn(this.geo.event.zoom, this.onChange);
    this.map.geoOn(this.geo.event.resize, () => this.keepViewOnResize());
    if (keep) {
      this.showDepth(keep.depth, keep.zoom);
    } else {
      this.fitView();
    }
    this.markLoading();
  }

  /**
   * Centre a depth (clamped to the log) at a zoom.
   * @param {number} depth - in the log's unit.
   * @param {?number} zoom - GeoJS zoom, clamped to the map's range; null or
   *   undefined keeps the current one.
   */
  showDepth(depth, zoom) {
    if (zoom !== null && zoom !== undefined) {
      const range = this.map.zoomRange();
      this.map.zoom(Math.min(range.max, Math.max(range.min, zoom)));
    }
    const y = this.axis.depthToY(this.axis.clampDepth(depth));
    this.map.center({x: this.columns * this.stretch / 2, y: y});
  }

  /** @returns {number} the depth at the middle of the view. */
  centreDepth() {
    return this.axis.yToDepth(this.map.center().y);
  }

  /** @returns {number} the current GeoJS zoom. */
  zoom() {
    return this.map.zoom();
  }

  /** Show the whole log (view.js fitView). */
  fitView() {
    const view = fitView({
      rows: this.axis.rows, columns: this.columns, stretch: this.stretch,
      maxLevel: this.maxLevel, height: this.map.size().height,
    });
    this.map.zoom(view.zoom);
    this.map.center(view.center);
  }

  /** A resized window keeps the depth in the middle of the view and the zoom. */
  keepViewOnResize() {
    if (this.lastView) {
      this.map.zoom(this.lastView.zoom);
      this.map.center(this.lastView.center);
    }
    this.onChange();
  }

  /** Remember the view as it is now: what a resize keeps. */
  rememberView() {
    this.lastView = {zoom: this.map.zoom(), center: this.map.center()};
  }

  /**
   * The view in image pixels and on screen.
   * @returns {{width: number, height: number, topY: number, bottomY: number,
   *   pxPerRow: number, logLeft: number, logRight: number}} map size (screen px),
   *   y of the view's top and bottom edges (image pixels), screen px per row,
   *   and the screen x of the log's left and right edges.
   */
  geometry() {
    const size = this.map.size();
    const top = this.map.displayToGcs({x: 0, y: 0});
    const bottom = this.map.displayToGcs({x: 0, y: size.height});
    const left = this.map.gcsToDisplay({x: 0, y: 0});
    const right = this.map.gcsToDisplay({x: this.columns * this.stretch, y: 0});
    return {
      width: size.width,
      height: size.height,
      topY: top.y,
      bottomY: bottom.y,
      pxPerRow: size.height / (bottom.y - top.y),
      logLeft: left.x,
      logRight: right.x,
    };
  }

  /**
   * The image pixel under a point of the page.
   * @param {number} clientX @param {number} clientY - page coordinates (a mouse event's).
   * @returns {{row: number, column: number}} integers, possibly outside the image.
   */
  pixelAt(clientX, clientY) {
    const box = this.node.getBoundingClientRect();
    const gcs = this.map.displayToGcs({x: clientX - box.left, y: clientY - box.top});
    return {row: Math.floor(gcs.y), column: Math.floor(gcs.x / this.stretch)};
  }

  /**
   * Draw the tiles from another URL (new colours); a URL already drawn is kept.
   * @param {string} tileUrl - GeoJS's {z}/{x}/{y} template.
   */
  setTileUrl(tileUrl) {
    if (this.layer.url() !== tileUrl) {
      this.layer.url(tileUrl);
      this.map.draw();
      this.markLoading();
    }
  }

  /** data-state on the map: "loading" until the tiles in view are drawn, then "ready". */
  markLoading() {
    this.node.dataset.state = 'loading';
    const current = this.map;
    current.onIdle(() => {
      if (current === this.map) {
        this.node.dataset.state = 'ready';
      }
    });
  }
}
