/**
 * Borehole image viewer for /images/<id>: the page script, which only wires the
 * modules of this folder.
 *
 * A GeoJS map of the tile pyramid (map.js) with a depth track beside it that
 * follows pan and zoom (depth-track.js), colour controls (controls.js: a colormap
 * from /api/v1/colormaps with its legend, reverse, min/max over the log's value
 * range; style.js), a hover readout (readout.js: depth, column, azimuth and the
 * stored value from the pixel endpoint) and a download of the region in view
 * (region.js). The view (centre depth, zoom, colours, stretch) is kept in the
 * page address (url-state.js), so a link or a reload reopens it; a resized
 * window keeps it. While the image is still being ingested there is no map: a
 * status line polls the image every second and reloads the page once it is
 * ready (status.js). Depth <-> row: axis.js only.
 *
 * Configuration comes from the page: {{ viewer_config|json_script:"viewer-config" }}
 * (tiles/views.py).
 */

import {fetchJson, loadScript} from './api.js';
import {DepthAxis} from './axis.js';
import {ColourControls, wireNavigation} from './controls.js';
import {drawDepthTrack} from './depth-track.js';
import {DepthMap} from './map.js';
import {wireReadout} from './readout.js';
import {RegionLink} from './region.js';
import {pollStatus, showStartFailure} from './status.js';
import {TileStyle, colormapCatalogue, valueScale} from './style.js';
import {readViewState, writeViewState} from './url-state.js';
import {autoStretch} from './view.js';

/** The page address follows the view at most this often (history.replaceState is rate-limited). */
const STATE_THROTTLE_MS = 250;

const el = (id) => document.getElementById(id);

/** @returns {function()} calls fn once on the next animation frame, however often it is called before. */
function onNextFrame(fn) {
  let frame = null;
  return () => {
    if (frame === null) {
      frame = window.requestAnimationFrame(() => {
        frame = null;
        fn();
      });
    }
  };
}

/** @returns {function()} calls fn once ms after the first call, however often it is called meanwhile. */
function throttled(fn, ms) {
  let timer = null;
  return () => {
    if (timer === null) {
      timer = window.setTimeout(() => {
        timer = null;
        fn();
      }, ms);
    }
  };
}

/**
 * Write the view (centre depth, zoom, colours, stretch) into the page address.
 * @param {DepthMap} depthMap @param {TileStyle} style
 */
function writeAddress(depthMap, style) {
  const format = style.scale.format;
  const range = style.rangeIsDefault() ? null : {min: format(style.min), max: format(style.max)};
  const pageUrl = new URL(window.location.href);
  pageUrl.search = writeViewState(pageUrl.search, {
    depth: depthMap.centreDepth(),
    depthDecimals: depthMap.axis.decimals + 2,
    zoom: depthMap.zoom(),
    colormap: style.colormap,
    reverse: style.reverse,
    min: range && range.min,
    max: range && range.max,
    stretch: depthMap.stretch,
  });
  if (pageUrl.href !== window.location.href) {
    window.history.replaceState(null, '', pageUrl);
  }
}

/**
 * Show the depth range in view ("9000.1 – 9546.0 m"), with its figures in
 * data-* attributes (read by the browser tests).
 * @param {HTMLElement} node - the #view-range output.
 * @param {DepthMap} depthMap @param {{top: number, bottom: number}} rows - rows in view.
 * @param {number} tickStep - the depth track's label spacing. @param {string} unit
 * @returns {{top: string, bottom: string}} the depths of the first and last row in view, as written.
 */
function showViewRange(node, depthMap, rows, tickStep, unit) {
  const axis = depthMap.axis;
  const top = axis.format(axis.rowToDepth(rows.top));
  const bottom = axis.format(axis.rowToDepth(rows.bottom));
  node.textContent = top + ' – ' + bottom + ' ' + unit;
  Object.assign(node.dataset, {
    depthTop: top,
    depthBottom: bottom,
    depthCentre: depthMap.centreDepth().toFixed(axis.decimals + 2),
    tickStep: String(tickStep),
    zoom: depthMap.zoom().toFixed(3),
    stretch: String(depthMap.stretch),
  });
  return {top: top, bottom: bottom};
}

/**
 * Build the viewer of a ready image.
 * @param {Object} geo - GeoJS.
 * @param {Object} config - the page configuration.
 * @param {Array<Object>} colormapList - the answer of /api/v1/colormaps.
 */
function startViewer(geo, config, colormapList) {
  const axis = DepthAxis.fromConfig(config);
  const wanted = readViewState(window.location.search);
  const style = new TileStyle(colormapCatalogue(colormapList), valueScale(config), wanted);
  const tileUrl = () => {
    const query = style.query().toString();
    return query ? config.tile_url + '?' + query : config.tile_url;
  };
  const mapNode = el('map');
  const scheduleUpdate = onNextFrame(updateView);
  const depthMap = new DepthMap(geo, mapNode, {
    axis: axis, columns: config.columns, tileSize: config.tile_size, onChange: scheduleUpdate,
  });
  const saveAddress = throttled(() => writeAddress(depthMap, style), STATE_THROTTLE_MS);
  const region = new RegionLink(config, scheduleUpdate);
  const controls = new ColourControls(style, () => {
    depthMap.setTileUrl(tileUrl());
    scheduleUpdate();
  });

  /** After any change of view or colours: depth track, range in view, download link, address. */
  function updateView() {
    const view = depthMap.geometry();
    const ticks = drawDepthTrack(el('depth-track'), el('map-grid'), axis, view);
    const rows = axis.rowsInView(view.topY, view.bottomY);
    const depths = showViewRange(el('view-range'), depthMap, rows, ticks.step, config.depth_unit);
    region.update(depths.top, depths.bottom, rows.bottom - rows.top + 1, style.query());
    depthMap.rememberView();
    saveAddress();
  }

  // Open on the view in the address, else on the whole log, stretched to be readable.
  const stretch = wanted.stretch || autoStretch({
    rows: axis.rows, columns: config.columns, width: mapNode.clientWidth, height: mapNode.clientHeight,
  });
  wireNavigation(depthMap, stretch, (k) => {
    depthMap.build(k, tileUrl(), {depth: depthMap.centreDepth(), zoom: depthMap.zoom()});
    scheduleUpdate();
  });
  wireReadout(el('readout'), depthMap, config);
  controls.show();
  depthMap.build(stretch, tileUrl(), null);
  if (wanted.depth !== null) {
    depthMap.showDepth(wanted.depth, wanted.zoom);
  } else if (wanted.zoom !== null) {
    depthMap.showDepth(depthMap.centreDepth(), wanted.zoom);
  }
  updateView();

  // For the browser tests and the console: the live map (rebuilt by a new stretch).
  window.depthViewer = {
    get map() {
      return depthMap.map;
    },
    get layer() {
      return depthMap.layer;
    },
    config: config,
    fitView: () => depthMap.fitView(),
    stretch: () => depthMap.stretch,
    showDepth: (depth, zoom) => depthMap.showDepth(depth, zoom),
  };
}

const config = JSON.parse(el('viewer-config').textContent);
if (config.status !== 'succeeded') {
  if (config.status !== 'failed') {
    pollStatus(config.detail_url);
  }
} else {
  Promise.all([fetchJson(config.colormaps_url), loadScript(config.geojs_url)])
    .then(([colormaps]) => startViewer(window.geo, config, colormaps))
    .catch(showStartFailure);
}
