/*
 * Borehole image viewer for /images/<id>.
 *
 * A GeoJS map of the tile pyramid in pixel space, a depth track beside it that
 * follows pan and zoom, colour controls (a colormap from /api/v1/colormaps with its
 * legend, reverse, min/max over the log's value range), a hover readout (depth,
 * column, azimuth and the stored value from the pixel endpoint) and a download of
 * the region in view. The view (centre depth, zoom, colours, stretch) is kept in
 * the page address, so a link or a reload reopens it; a resized window keeps it.
 * While the image is still being ingested there is no map: a status line polls
 * the image every second and reloads the page once it is ready.
 *
 * Coordinates: with geo.util.pixelCoordinateParams the map's gcs is image pixels,
 * x = column and y = row, growing downward (y = 0 is the top edge of row 0).
 * Row r covers y in [r, r + 1) and stands for the depth depth_min + r * depth_step
 * in depth_unit; row 0 is the shallowest. GeoJS zoom z shows 2^(z - maxLevel)
 * screen pixels per image row (maxLevel: full resolution). The optional horizontal
 * stretch k declares columns k units wide (x = k * column), so a long, narrow log
 * can be seen whole at a readable width; the depth scale does not change.
 *
 * Configuration comes from the page: {{ viewer_config|json_script:"viewer-config" }}.
 */
(function () {
  'use strict';

  const config = JSON.parse(document.getElementById('viewer-config').textContent);

  const MIN_LABEL_SPACING = 40;  // screen px between depth labels, at least
  const MIN_START_WIDTH = 12;    // screen px: a longer log opens at its top, not whole
  const STRETCHES = [1, 2, 4, 8, 16];  // horizontal stretch choices
  const STRETCH_TARGET = 240;    // screen px: the automatic stretch aims at this log width
  const EXTRA_ZOOM = 3;          // levels past full resolution (8 screen px per pixel)
  const POLL_MS = 1000;
  const READOUT_DELAY_MS = 120;
  const DEFAULT_COLORMAP = 'gray';  // plain grey: tiles without a palette
  const STATE_THROTTLE_MS = 250;   // the page address follows the view at most this often
  const SLIDER_DELAY_MS = 200;     // min/max sliders redraw the tiles once they pause this long
  const GREY_LEGEND = '/api/v1/colormaps/' + encodeURIComponent('#000,#fff') + '.png';
  const FORMAT_MAX_SIDE = {jpeg: 65535, webp: 16383};  // larger regions are scaled down

  const el = (id) => document.getElementById(id);

  /* ---------- depth arithmetic (pure) ---------- */

  /** Decimals needed to write a step such as 0.1 or 0.5 exactly (0.09999999999999994 -> 1). */
  function decimalsOf(step) {
    for (let d = 0; d <= 6; d += 1) {
      const scaled = step * Math.pow(10, d);
      if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) {
        return d;
      }
    }
    return 6;
  }

  /**
   * The smallest "nice" step (1, 2 or 5 x 10^k) not below minStep.
   * Returns {step, decimals, minor}: decimals to label a multiple of step, and the
   * number of minor intervals per major one.
   */
  function niceStep(minStep) {
    let exp = Math.floor(Math.log10(minStep));
    let mantissa = [1, 2, 5].find((m) => m * Math.pow(10, exp) >= minStep * (1 - 1e-9));
    if (mantissa === undefined) {
      mantissa = 1;
      exp += 1;
    }
    return {
      step: mantissa * Math.pow(10, exp),
      decimals: Math.max(0, -exp),
      minor: mantissa === 2 ? 4 : 5,
    };
  }

  const depthDecimals = decimalsOf(config.depth_step || 1);
  const rowToDepth = (row) => config.depth_min + row * config.depth_step;
  /** y (image pixels) of the centre of the row sampled at a depth. */
  const depthToY = (depth) => (depth - config.depth_min) / config.depth_step + 0.5;
  const clampRow = (row) => Math.min(config.rows - 1, Math.max(0, row));
  const formatDepth = (depth) => depth.toFixed(depthDecimals);
  /**
   * Azimuth in degrees of the middle of a column. The columns of an image log are
   * taken to cover the borehole wall once, clockwise from the reference direction
   * (north or the high side): column c spans [c, c + 1) x 360 / columns degrees.
   */
  const azimuth = (column) => (column + 0.5) * 360 / config.columns;

  /* ---------- status line (images not ready) ---------- */

  function showStatus(data) {
    const box = el('status');
    const text = el('status-text');
    box.hidden = false;
    box.className = 'status-line status-' + data.status;
    if (data.status === 'failed') {
      text.textContent = 'Ingestion failed: ' + (data.error || 'unknown error');
      const bar = el('status-progress');
      if (bar) {
        bar.remove();
      }
      return;
    }
    const percent = Math.round((data.progress || 0) * 100);
    text.textContent = 'Ingestion ' + data.status + '… ' + percent + ' %';
    let bar = el('status-progress');
    if (!bar) {
      bar = document.createElement('progress');
      bar.id = 'status-progress';
      bar.max = 1;
      box.appendChild(bar);
    }
    bar.value = data.progress || 0;
  }

  function pollStatus() {
    fetch(config.detail_url, {headers: {Accept: 'application/json'}, cache: 'no-store'})
      .then((response) => {
        if (!response.ok) {
          throw new Error('HTTP ' + response.status);
        }
        return response.json();
      })
      .then((data) => {
        if (data.status === 'succeeded') {
          window.location.reload();
          return;
        }
        showStatus(data);
        if (data.status !== 'failed') {
          window.setTimeout(pollStatus, POLL_MS);
        }
      })
      .catch((err) => {
        el('status-text').textContent = 'Cannot reach the server (' + err.message + '); retrying…';
        window.setTimeout(pollStatus, POLL_MS * 5);
      });
  }

  /* ---------- the map ---------- */

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error('cannot load ' + src));
      document.head.appendChild(script);
    });
  }

  function fetchJson(url) {
    return fetch(url, {headers: {Accept: 'application/json'}}).then((response) => {
      if (!response.ok) {
        throw new Error(url + ': HTTP ' + response.status);
      }
      return response.json();
    });
  }

  /**
   * The value controls of this image.
   * uint8: sliders 0..255, default 0..255 (the stored values as they are).
   * float32: sliders over value_min..value_max, default the 2nd..98th percentiles
   * (what the server uses without min/max), in about 1000 steps.
   */
  function valueScale() {
    const isFloat = config.dtype === 'float32';
    const pick = (...values) => values.find((v) => v !== null && v !== undefined && Number.isFinite(v));
    let low = isFloat ? pick(config.value_p2, config.value_min, 0) : 0;
    let high = isFloat ? pick(config.value_p98, config.value_max, low + 1) : 255;
    if (high <= low) {
      high = low + 1;
    }
    const spanLow = Math.min(low, pick(config.value_min, low));
    const spanHigh = Math.max(high, pick(config.value_max, high));
    const step = isFloat ? niceStep((spanHigh - spanLow) / 1000) : {step: 1, decimals: 0};
    const decimals = isFloat ? step.decimals : 0;
    return {
      low: low,
      high: high,
      spanLow: spanLow,
      spanHigh: spanHigh,
      step: step.step,
      format: (v) => String(Number(v.toFixed(decimals))),
    };
  }

  /** The page's view state: ?depth=&zoom=&colormap=&reverse=1&min=&max=&stretch= */
  function readPageState() {
    const query = new URLSearchParams(window.location.search);
    const number = (name) => {
      const text = query.get(name);
      const value = text === null || text.trim() === '' ? NaN : Number(text);
      return Number.isFinite(value) ? value : null;
    };
    return {
      depth: number('depth'),
      zoom: number('zoom'),
      colormap: query.get('colormap'),
      reverse: query.get('reverse') === '1',
      min: number('min'),
      max: number('max'),
      stretch: STRETCHES.includes(number('stretch')) ? number('stretch') : null,
    };
  }

  /**
   * The colormaps offered: every name of /api/v1/colormaps, except a "<name>_r"
   * whose "<name>" is also there (the Reverse box draws it).
   */
  function colormapCatalogue(list) {
    const names = new Set(list.map((c) => c.name));
    const legends = new Map(list.map((c) => [c.name, c.legend_url]));
    const isReversal = (name) => name.endsWith('_r') && names.has(name.slice(0, -2));
    const choices = list.filter((c) => !isReversal(c.name));
    /** The reverse of a colormap, or null when it has none. */
    const reversed = (name) => {
      if (isReversal(name)) {
        return name.slice(0, -2);
      }
      return names.has(name + '_r') ? name + '_r' : null;
    };
    return {names: names, legends: legends, choices: choices, reversed: reversed};
  }

  function buildViewer(geo, colormapList) {
    const mapNode = el('map');
    const track = el('depth-track');
    const grid = el('map-grid');
    const viewRange = el('view-range');
    const readout = el('readout');
    const colormapSelect = el('colormap');
    const reverseBox = el('reverse');
    const legend = el('colormap-legend');
    const stretchSelect = el('stretch');
    const regionLink = el('region-link');
    const regionFormat = el('region-format');
    const controls = {
      min: {range: el('min-range'), number: el('min-value'), label: el('legend-min')},
      max: {range: el('max-range'), number: el('max-value'), label: el('legend-max')},
    };
    const tile = config.tile_size;
    const catalogue = colormapCatalogue(colormapList);
    const scale = valueScale();
    const wanted = readPageState();

    const state = {
      colormap: DEFAULT_COLORMAP,  // the name chosen in the select
      reverse: false,
      min: scale.low,
      max: scale.high,
    };
    if (wanted.colormap && catalogue.names.has(wanted.colormap)) {
      const reversal = catalogue.reversed(wanted.colormap);
      const isReversal = reversal !== null && !catalogue.choices.some((c) => c.name === wanted.colormap);
      state.colormap = isReversal ? reversal : wanted.colormap;
      state.reverse = isReversal !== wanted.reverse;
    } else {
      state.reverse = wanted.reverse;
    }
    if (wanted.min !== null && wanted.max !== null && wanted.min <= wanted.max) {
      state.min = wanted.min;
      state.max = wanted.max;
    }

    let stretch = 1;  // width of a column on screen, in row heights
    let map = null;
    let layer = null;
    let maxLevel = 0;
    let lastView = null;  // {zoom, center} after the last redraw: what a resize keeps

    /** Screen px per image row at a zoom (also per column before the stretch). */
    const scaleAt = (zoom) => Math.pow(2, zoom - maxLevel);

    /** Zoom that fits the whole log to the map height. */
    const fitZoom = () => maxLevel + Math.log2(map.size().height / config.rows);

    /** The colormap drawn: the chosen one, or its reverse. */
    function effectiveColormap() {
      const reversal = state.reverse ? catalogue.reversed(state.colormap) : null;
      return reversal || state.colormap;
    }

    const rangeIsDefault = () =>
      scale.format(state.min) === scale.format(scale.low) && scale.format(state.max) === scale.format(scale.high);

    /** palette, min and max as the tile, region and thumbnail endpoints take them. */
    function styleQuery() {
      const query = new URLSearchParams();
      const name = effectiveColormap();
      if (name !== DEFAULT_COLORMAP) {
        query.set('palette', name);
      }
      if (!rangeIsDefault()) {
        query.set('min', scale.format(state.min));
        query.set('max', scale.format(state.max));
      }
      return query;
    }

    function tileUrl() {
      const query = styleQuery().toString();
      return query ? config.tile_url + '?' + query : config.tile_url;
    }

    /**
     * (Re)create the map with each image column drawn `stretch` screen units wide:
     * tiles are declared stretch x 256 wide, so GeoJS draws them stretched while
     * rows (and so the depth scale) keep their size. Keeps the zoom and the depth
     * in the middle of the view when given.
     */
    function createMap(keep) {
      if (map) {
        map.exit();
      }
      const params = geo.util.pixelCoordinateParams(
        mapNode, config.columns * stretch, config.rows, tile * stretch, tile);
      // An image smaller than a tile is one tile at level 0 (GeoJS would say level < 0).
      maxLevel = Math.max(0, params.layer.maxLevel);
      params.layer.maxLevel = maxLevel;
      params.map.unitsPerPixel = Math.pow(2, maxLevel);
      // Zoom in far enough to see single pixels, and to fit a short log to the height.
      const fit = maxLevel + Math.log2(Math.max(1, mapNode.clientHeight) / config.rows);
      params.map.max = Math.max(maxLevel + EXTRA_ZOOM, Math.ceil(fit));
      params.map.min = Math.min(params.map.min, Math.floor(fit));
      params.map.zoom = params.map.min;
      params.map.allowRotation = false;
      params.layer.url = tileUrl();
      map = geo.map(params.map);
      layer = map.createLayer('osm', params.layer);
      map.geoOn(geo.event.pan, scheduleUpdate);
      map.geoOn(geo.event.zoom, scheduleUpdate);
      map.geoOn(geo.event.resize, keepViewOnResize);
      if (keep) {
        showDepth(keep.depth, keep.zoom);
      } else {
        fitView();
      }
      markLoading();
      window.depthViewer = {
        map: map,
        layer: layer,
        config: config,
        fitView: fitView,
        stretch: () => stretch,
        showDepth: showDepth,
      };
    }

    /** Centre a depth (clamped to the log) at a zoom (default: the current one). */
    function showDepth(depth, zoom) {
      if (zoom !== null && zoom !== undefined) {
        map.zoom(Math.min(map.zoomRange().max, Math.max(map.zoomRange().min, zoom)));
      }
      const clamped = Math.min(config.depth_max, Math.max(config.depth_min, depth));
      map.center({x: config.columns * stretch / 2, y: depthToY(clamped)});
    }

    /** The depth at the middle of the view. */
    const centreDepth = () => rowToDepth(map.center().y - 0.5);

    /** Whole log fitted to the map height; a log too long for that opens at its top. */
    function fitView() {
      let zoom = fitZoom();
      let centerY = config.rows / 2;
      if (config.columns * stretch * scaleAt(zoom) < MIN_START_WIDTH) {
        zoom = maxLevel + Math.log2(MIN_START_WIDTH / (config.columns * stretch));
        centerY = map.size().height / scaleAt(zoom) / 2;
      }
      map.zoom(zoom);
      map.center({x: config.columns * stretch / 2, y: centerY});
    }

    /** A resized window keeps the depth in the middle of the view and the zoom. */
    function keepViewOnResize() {
      if (lastView) {
        map.zoom(lastView.zoom);
        map.center(lastView.center);
      }
      scheduleUpdate();
    }

    /**
     * Stretch that shows the whole log about STRETCH_TARGET px wide (powers of two,
     * never wider than half the map), so a long narrow log opens readable. Needs only
     * the map node's size, so the map is built once.
     */
    function autoStretch() {
      const fitScale = mapNode.clientHeight / config.rows;
      const target = Math.min(STRETCH_TARGET, mapNode.clientWidth / 2);
      let best = 1;
      for (const k of STRETCHES) {
        if (config.columns * k * fitScale <= target) {
          best = k;
        }
      }
      return best;
    }

    /** The view in image pixels: y of its top and bottom edges, and the log's edges on screen. */
    function viewGeometry() {
      const size = map.size();
      const top = map.displayToGcs({x: 0, y: 0});
      const bottom = map.displayToGcs({x: 0, y: size.height});
      const left = map.gcsToDisplay({x: 0, y: 0});
      const right = map.gcsToDisplay({x: config.columns * stretch, y: 0});
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

    function sizeCanvas(canvas) {
      const ratio = window.devicePixelRatio || 1;
      const w = canvas.clientWidth;
      const h = canvas.clientHeight;
      if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
        canvas.width = Math.round(w * ratio);
        canvas.height = Math.round(h * ratio);
      }
      const ctx = canvas.getContext('2d');
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, w, h);
      return {ctx: ctx, w: w, h: h};
    }

    /** Draw the depth axis and the grid lines beside the log; returns the tick spacing. */
    function drawTrack(view) {
      const {ctx, w, h} = sizeCanvas(track);
      const gridCanvas = sizeCanvas(grid);
      const pxPerUnit = view.pxPerRow / config.depth_step;
      const ticks = niceStep(MIN_LABEL_SPACING / pxPerUnit);
      const yOf = (depth) => (depthToY(depth) - view.topY) * view.pxPerRow;
      const styles = getComputedStyle(track);

      // Only where the log has data: its first and last scanline.
      const first = Math.max(config.depth_min, rowToDepth(view.topY - 0.5));
      const last = Math.min(config.depth_max, rowToDepth(view.bottomY - 0.5));

      ctx.strokeStyle = styles.color;
      ctx.fillStyle = styles.color;
      ctx.lineWidth = 1;
      ctx.font = styles.font || '12px sans-serif';
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';

      // The axis line along the log's extent in view.
      ctx.beginPath();
      ctx.moveTo(w - 0.5, Math.max(0, yOf(config.depth_min)));
      ctx.lineTo(w - 0.5, Math.min(h, yOf(config.depth_max)));
      ctx.stroke();

      const minorStep = ticks.step / ticks.minor;
      if (minorStep * pxPerUnit >= 4) {
        ctx.beginPath();
        for (let k = Math.ceil(first / minorStep - 1e-9); k * minorStep <= last + 1e-9; k += 1) {
          const y = Math.round(yOf(k * minorStep)) + 0.5;
          ctx.moveTo(w - 5, y);
          ctx.lineTo(w, y);
        }
        ctx.stroke();
      }

      const gctx = gridCanvas.ctx;
      gctx.strokeStyle = getComputedStyle(grid).color;
      gctx.lineWidth = 1;
      gctx.beginPath();
      ctx.beginPath();
      for (let k = Math.ceil(first / ticks.step - 1e-9); k * ticks.step <= last + 1e-9; k += 1) {
        const depth = k * ticks.step;
        const y = Math.round(yOf(depth)) + 0.5;
        ctx.moveTo(w - 10, y);
        ctx.lineTo(w, y);
        ctx.fillText(depth.toFixed(ticks.decimals), w - 13, Math.min(h - 8, Math.max(8, y)));
        // Grid lines lead the eye from the axis to the log, never over it.
        if (view.logLeft > 0) {
          gctx.moveTo(0, y);
          gctx.lineTo(Math.min(view.logLeft - 3, gridCanvas.w), y);
        }
        if (view.logRight < gridCanvas.w) {
          gctx.moveTo(Math.max(view.logRight + 3, 0), y);
          gctx.lineTo(gridCanvas.w, y);
        }
      }
      ctx.stroke();
      gctx.stroke();
      return ticks;
    }

    /** The "Download region" link: the depth range in view, in the chosen format. */
    function updateRegionLink(top, bottom, rowsInView) {
      const format = regionFormat.value;
      const query = new URLSearchParams({depth_min: top, depth_max: bottom});
      if (format !== 'npy') {  // npy holds the stored values: no colours
        for (const [key, value] of styleQuery()) {
          query.set(key, value);
        }
        const limit = FORMAT_MAX_SIDE[format];
        if (limit && rowsInView > limit) {
          query.set('max_height', String(limit));
        }
      }
      regionLink.href = config.region_url + '.' + format + '?' + query.toString();
      regionLink.download = config.name + '_' + top + '-' + bottom + config.depth_unit + '.' + format;
    }

    function updateView() {
      const view = viewGeometry();
      const ticks = drawTrack(view);
      const topRow = clampRow(Math.floor(view.topY));
      const bottomRow = clampRow(Math.ceil(view.bottomY) - 1);
      const top = formatDepth(rowToDepth(topRow));
      const bottom = formatDepth(rowToDepth(bottomRow));
      viewRange.textContent = top + ' – ' + bottom + ' ' + config.depth_unit;
      Object.assign(viewRange.dataset, {
        depthTop: top,
        depthBottom: bottom,
        depthCentre: centreDepth().toFixed(depthDecimals + 2),
        tickStep: String(ticks.step),
        zoom: map.zoom().toFixed(3),
        stretch: String(stretch),
      });
      updateRegionLink(top, bottom, bottomRow - topRow + 1);
      lastView = {zoom: map.zoom(), center: map.center()};
      saveState();
    }

    let frame = null;
    function scheduleUpdate() {
      if (frame === null) {
        frame = window.requestAnimationFrame(() => {
          frame = null;
          updateView();
        });
      }
    }

    /** The view state in the page address (throttled: history.replaceState is rate-limited). */
    let stateTimer = null;
    function saveState() {
      if (stateTimer === null) {
        stateTimer = window.setTimeout(() => {
          stateTimer = null;
          writeState();
        }, STATE_THROTTLE_MS);
      }
    }

    function writeState() {
      const pageUrl = new URL(window.location.href);
      const query = pageUrl.searchParams;
      const put = (name, value, isDefault) => (isDefault ? query.delete(name) : query.set(name, value));
      query.set('depth', String(Number(centreDepth().toFixed(depthDecimals + 2))));
      query.set('zoom', map.zoom().toFixed(3));
      put('colormap', state.colormap, state.colormap === DEFAULT_COLORMAP);
      put('reverse', '1', !state.reverse);
      put('min', scale.format(state.min), rangeIsDefault());
      put('max', scale.format(state.max), rangeIsDefault());
      query.set('stretch', String(stretch));
      if (pageUrl.href !== window.location.href) {
        window.history.replaceState(null, '', pageUrl);
      }
    }

    /** data-state on the map: "loading" until the tiles in view are drawn, then "ready". */
    function markLoading() {
      mapNode.dataset.state = 'loading';
      const current = map;
      current.onIdle(() => {
        if (current === map) {
          mapNode.dataset.state = 'ready';
        }
      });
    }

    /* Colour: colormap, reverse, min/max. */

    function showStyle() {
      const name = effectiveColormap();
      // The default grey is drawn without a palette: its legend is black to white.
      // (The API's own gray.png is black to mid-grey: "gray" reads as the CSS colour.)
      const legendSource = name === DEFAULT_COLORMAP ? GREY_LEGEND : catalogue.legends.get(name);
      const legendUrl = new URL(legendSource, window.location.href);
      legendUrl.search = new URLSearchParams({width: '160', height: '14'}).toString();
      if (legend.getAttribute('src') !== legendUrl.href) {
        legend.src = legendUrl.href;
      }
      legend.alt = 'Legend of ' + name;
      legend.dataset.colormap = name;
      reverseBox.disabled = catalogue.reversed(state.colormap) === null;
      reverseBox.checked = state.reverse && !reverseBox.disabled;
      for (const key of ['min', 'max']) {
        const value = scale.format(state[key]);
        controls[key].range.value = value;
        if (document.activeElement !== controls[key].number) {
          controls[key].number.value = value;
        }
        controls[key].label.textContent = value;
      }
    }

    let styleTimer = null;
    /** Redraw the tiles with the current colours. */
    function applyStyle() {
      window.clearTimeout(styleTimer);
      styleTimer = null;
      showStyle();
      const url = tileUrl();
      if (layer.url() !== url) {
        layer.url(url);
        map.draw();
        markLoading();
      }
      scheduleUpdate();
    }

    /** Slider moves redraw once they pause (each redraw fetches every tile in view). */
    function applyStyleSoon() {
      showStyle();
      window.clearTimeout(styleTimer);
      styleTimer = window.setTimeout(applyStyle, SLIDER_DELAY_MS);
    }

    /** Set min or max, keeping min <= max by moving the other one along. */
    function setBound(key, value) {
      state[key] = value;
      if (state.min > state.max) {
        if (key === 'min') {
          state.max = state.min;
        } else {
          state.min = state.max;
        }
      }
    }

    const featured = document.createElement('optgroup');
    featured.label = 'Borehole and common';
    const others = document.createElement('optgroup');
    others.label = 'All colormaps';
    for (const choice of catalogue.choices) {
      (choice.featured ? featured : others).appendChild(new Option(choice.name, choice.name));
    }
    colormapSelect.append(featured, others);
    colormapSelect.value = state.colormap;
    colormapSelect.addEventListener('change', () => {
      state.colormap = colormapSelect.value;
      applyStyle();
    });
    reverseBox.addEventListener('change', () => {
      state.reverse = reverseBox.checked;
      applyStyle();
    });

    for (const key of ['min', 'max']) {
      const {range, number} = controls[key];
      Object.assign(range, {min: scale.spanLow, max: scale.spanHigh, step: scale.step});
      range.title = 'Values in the log: ' + scale.format(scale.spanLow) + ' to ' + scale.format(scale.spanHigh);
      range.addEventListener('input', () => {
        setBound(key, Number(range.value));
        applyStyleSoon();
      });
      range.addEventListener('change', () => applyStyle());
      number.addEventListener('change', () => {
        const value = Number(number.value);
        if (number.value.trim() !== '' && Number.isFinite(value)) {
          setBound(key, value);
        }
        number.value = scale.format(state[key]);
        applyStyle();
      });
    }
    el('range-reset').addEventListener('click', () => {
      state.min = scale.low;
      state.max = scale.high;
      applyStyle();
    });

    // Horizontal stretch: rebuilds the map, keeping the zoom and the depth in view.
    stretchSelect.addEventListener('change', () => {
      const keep = {depth: centreDepth(), zoom: map.zoom()};
      stretch = Number(stretchSelect.value);
      createMap(keep);
      scheduleUpdate();
    });

    // Whole log, and go to a depth (centred, zoom kept).
    el('fit-button').addEventListener('click', fitView);
    el('goto-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const depth = parseFloat(el('goto-depth').value);
      if (Number.isFinite(depth)) {
        showDepth(depth, null);
      }
    });

    for (const format of config.region_formats) {
      regionFormat.add(new Option(format.toUpperCase(), format));
    }
    regionFormat.addEventListener('change', scheduleUpdate);

    // Hover readout: depth, row, column and azimuth at once, the stored value from the API.
    let pending = null;
    let timer = null;
    function readValue(row, column, label) {
      if (pending) {
        pending.abort();
      }
      pending = new AbortController();
      const query = new URLSearchParams({left: String(column), top: String(row)});
      fetch(config.pixel_url + '?' + query.toString(), {signal: pending.signal})
        .then((response) => (response.ok ? response.json() : null))
        .then((data) => {
          if (data) {
            const value = data.value === null ? 'nodata' : String(data.value);
            readout.textContent = label + ' · value ' + value;
          }
        })
        .catch((err) => {
          if (err.name !== 'AbortError') {
            readout.textContent = label;
          }
        });
    }
    mapNode.addEventListener('mousemove', (event) => {
      const box = mapNode.getBoundingClientRect();
      const gcs = map.displayToGcs({x: event.clientX - box.left, y: event.clientY - box.top});
      const row = Math.floor(gcs.y);
      const column = Math.floor(gcs.x / stretch);
      window.clearTimeout(timer);
      if (row < 0 || row >= config.rows || column < 0 || column >= config.columns) {
        readout.textContent = '\u00a0';
        return;
      }
      const label = 'Depth ' + formatDepth(rowToDepth(row)) + ' ' + config.depth_unit +
        ' · row ' + row + ' · column ' + column + ' · azimuth ' + azimuth(column).toFixed(1) + '°';
      readout.textContent = label;
      timer = window.setTimeout(() => readValue(row, column, label), READOUT_DELAY_MS);
    });
    mapNode.addEventListener('mouseleave', () => {
      window.clearTimeout(timer);
    });

    // Open on the view in the address, else on the whole log.
    for (const k of STRETCHES) {
      stretchSelect.add(new Option(k === 1 ? '1× (square)' : k + '×', String(k)));
    }
    stretch = wanted.stretch || autoStretch();
    stretchSelect.value = String(stretch);
    showStyle();
    createMap(null);
    if (wanted.depth !== null) {
      showDepth(wanted.depth, wanted.zoom);
    } else if (wanted.zoom !== null) {
      showDepth(centreDepth(), wanted.zoom);
    }
    updateView();
  }

  /* ---------- start ---------- */

  if (config.status !== 'succeeded') {
    if (config.status !== 'failed') {
      pollStatus();
    }
    return;
  }
  Promise.all([fetchJson(config.colormaps_url), loadScript(config.geojs_url)])
    .then(([colormaps]) => buildViewer(window.geo, colormaps))
    .catch((err) => {
      el('status').hidden = false;
      el('status').className = 'status-line status-failed';
      el('status-text').textContent = 'The viewer could not start: ' + err.message;
    });
})();
