/*
 * Borehole image viewer for /images/<id>.
 *
 * A GeoJS map of the tile pyramid in pixel space, a depth track beside it that
 * follows pan and zoom, a colormap choice, a hover readout and a link to the
 * region in view. While the image is still being ingested there is no map: a
 * status line polls the image every second and reloads the page once it is ready.
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

  function tileUrl(colormap) {
    if (!colormap || colormap === DEFAULT_COLORMAP) {
      return config.tile_url;
    }
    return config.tile_url + '?palette=' + encodeURIComponent(colormap);
  }

  /** The page's ?colormap= and ?stretch= (kept there so a view can be shared). */
  function pageChoice(name, allowed) {
    const wanted = new URLSearchParams(window.location.search).get(name);
    return allowed.map(String).includes(wanted) ? wanted : null;
  }

  function setPageChoice(name, value, isDefault) {
    const pageUrl = new URL(window.location.href);
    if (isDefault) {
      pageUrl.searchParams.delete(name);
    } else {
      pageUrl.searchParams.set(name, value);
    }
    window.history.replaceState(null, '', pageUrl);
  }

  function buildViewer(geo) {
    const mapNode = el('map');
    const track = el('depth-track');
    const grid = el('map-grid');
    const viewRange = el('view-range');
    const readout = el('readout');
    const colormapSelect = el('colormap');
    const stretchSelect = el('stretch');
    const regionLink = el('region-link');
    const tile = config.tile_size;

    let colormap = pageChoice('colormap', config.colormaps) || DEFAULT_COLORMAP;
    let stretch = 1;  // width of a column on screen, in row heights
    let map = null;
    let layer = null;
    let maxLevel = 0;

    /** Screen px per image row at a zoom (also per column before the stretch). */
    const scaleAt = (zoom) => Math.pow(2, zoom - maxLevel);

    /** Zoom that fits the whole log to the map height. */
    const fitZoom = () => maxLevel + Math.log2(map.size().height / config.rows);

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
      maxLevel = params.layer.maxLevel;
      params.map.max = maxLevel + EXTRA_ZOOM;
      params.map.allowRotation = false;
      params.layer.url = tileUrl(colormap);
      map = geo.map(params.map);
      layer = map.createLayer('osm', params.layer);
      map.geoOn(geo.event.pan, scheduleUpdate);
      map.geoOn(geo.event.zoom, scheduleUpdate);
      map.geoOn(geo.event.resize, scheduleUpdate);
      if (keep) {
        map.zoom(keep.zoom);
        map.center({x: config.columns * stretch / 2, y: keep.centerY});
      } else {
        fitView();
      }
      markLoading();
      window.depthViewer = {map: map, layer: layer, config: config, fitView: fitView};
    }

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
        tickStep: String(ticks.step),
        zoom: map.zoom().toFixed(3),
        stretch: String(stretch),
      });
      const query = new URLSearchParams({depth_min: top, depth_max: bottom});
      if (colormap !== DEFAULT_COLORMAP) {
        query.set('palette', colormap);
      }
      regionLink.href = config.region_url + '?' + query.toString();
      regionLink.download = config.name + '_' + top + '-' + bottom + '_' + config.depth_unit + '.png';
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

    // Colormap choice.
    for (const name of config.colormaps) {
      colormapSelect.add(new Option(name, name));
    }
    colormapSelect.value = colormap;
    colormapSelect.addEventListener('change', () => {
      colormap = colormapSelect.value;
      layer.url(tileUrl(colormap));
      map.draw();
      markLoading();
      setPageChoice('colormap', colormap, colormap === DEFAULT_COLORMAP);
      scheduleUpdate();
    });

    // Horizontal stretch: rebuilds the map, keeping the zoom and the depth in view.
    stretchSelect.addEventListener('change', () => {
      const center = map.center();
      stretch = Number(stretchSelect.value);
      createMap({zoom: map.zoom(), centerY: center.y});
      setPageChoice('stretch', String(stretch), false);
      scheduleUpdate();
    });

    // Whole log, and go to a depth (centred, zoom kept).
    el('fit-button').addEventListener('click', fitView);
    el('viewer-toolbar').addEventListener('submit', (event) => {
      event.preventDefault();
      const depth = parseFloat(el('goto-depth').value);
      if (Number.isFinite(depth)) {
        const clamped = Math.min(config.depth_max, Math.max(config.depth_min, depth));
        map.center({x: config.columns * stretch / 2, y: depthToY(clamped)});
      }
    });

    // Hover readout: depth, row and column at once, the stored value from the API.
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
        ' · row ' + row + ' · column ' + column;
      readout.textContent = label;
      timer = window.setTimeout(() => readValue(row, column, label), READOUT_DELAY_MS);
    });
    mapNode.addEventListener('mouseleave', () => {
      window.clearTimeout(timer);
    });

    // Open on the whole log.
    for (const k of STRETCHES) {
      stretchSelect.add(new Option(k === 1 ? '1× (square)' : k + '×', String(k)));
    }
    const chosen = pageChoice('stretch', STRETCHES);
    stretch = chosen ? Number(chosen) : autoStretch();
    stretchSelect.value = String(stretch);
    createMap(null);
    updateView();
  }

  /* ---------- start ---------- */

  if (config.status !== 'succeeded') {
    if (config.status !== 'failed') {
      pollStatus();
    }
    return;
  }
  loadScript(config.geojs_url)
    .then(() => buildViewer(window.geo))
    .catch((err) => {
      el('status').hidden = false;
      el('status').className = 'status-line status-failed';
      el('status-text').textContent = 'The viewer could not start: ' + err.message;
    });
})();
