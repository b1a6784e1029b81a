/**
 * The workstation's layout in the page address, so a view can be shared and
 * survives a reload. Pure: works on query strings.
 *
 *   ?t=depth,img:12,img:13,curve:GR|CALI     the tracks, left to right
 *   &w=70,220,220,200                         their widths (CSS px)
 *   &scale=200 | scale=fit                    1:N (free zoom: any N), or fit the window
 *   &top=9100.25                              depth at the top edge
 *   &t1.cmap=viridis&t1.rev=1&t1.min=10&t1.max=200
 *   &t1.norm=dynamic&t1.win=0.6&t1.az=90      image track 1's colours, normalisation, turn
 *   &t3.GR=0,150,fill=0,col=009e73&t3.ILD=0.2,2000,log
 *   &t4.kinds=bedding|fault&t4.true=1        tadpole track 4 (t=...,picks:12): the kinds
 *                                             shown (absent: all), true dips (absent: apparent)
 *                                             curve track 3's curves: left, right limits,
 *                                             log scale, fill to a baseline, colour
 *
 * Every value is checked: an unknown track, a bad number or a width out of
 * bounds is dropped (the page's default takes its place), never an error.
 * @module state
 */

/** At most this many tracks, and curves per track. */
export const MAX_TRACKS = 16;
export const MAX_CURVES = 8;
/** Track widths (CSS px). */
export const WIDTH_BOUNDS = Object.freeze({min: 40, max: 1200});
export const DEFAULT_WIDTHS = Object.freeze({depth: 72, image: 220, curve: 200, picks: 160});
/** Image normalisations (the tile endpoints' normalize=). */
export const NORMALIZATIONS = Object.freeze(['none', 'static', 'dynamic']);

const MNEMONIC = /^[^,|:]{1,64}$/;
const COLOUR = /^[0-9a-f]{6}$/i;
const KIND = /^[a-z][a-z0-9_-]{0,31}$/;

const finite = (text) => {
  const value = text === null || text === undefined || String(text).trim() === '' ? NaN : Number(text);
  return Number.isFinite(value) ? value : null;
};

/**
 * One token of ?t=.
 * @param {string} token - "depth", "img:12", "picks:12" (the tadpoles of image 12) or "curve:GR|CALI".
 * @returns {?Object} {kind: 'depth'} | {kind: 'image', id} | {kind: 'picks', id} |
 *   {kind: 'curve', mnemonics}; null if unknown.
 */
export function parseTrackToken(token) {
  if (token === 'depth') {
    return {kind: 'depth'};
  }
  const picks = /^picks:(\d{1,10})$/.exec(token);
  if (picks) {
    return {kind: 'picks', id: Number(picks[1])};
  }
  const image = /^img:(\d{1,10})$/.exec(token);
  if (image) {
    return {kind: 'image', id: Number(image[1])};
  }
  const curve = /^curve:(.+)$/.exec(token);
  if (curve) {
    const mnemonics = [...new Set(curve[1].split('|'))].filter((m) => MNEMONIC.test(m)).slice(0, MAX_CURVES);
    return {kind: 'curve', mnemonics: mnemonics};
  }
  return null;
}

/** @param {Object} track @returns {string} its ?t= token. */
export function trackToken(track) {
  if (track.kind === 'image') {
    return 'img:' + track.id;
  }
  if (track.kind === 'curve') {
    return 'curve:' + track.curves.map((c) => c.mnemonic).join('|');
  }
  if (track.kind === 'picks') {
    return 'picks:' + track.id;
  }
  return 'depth';
}

function readImageOptions(query, prefix) {
  const min = finite(query.get(prefix + 'min'));
  const max = finite(query.get(prefix + 'max'));
  const range = min !== null && max !== null && min <= max;
  const norm = query.get(prefix + 'norm');
  const window = finite(query.get(prefix + 'win'));
  const azimuth = finite(query.get(prefix + 'az'));
  const colormap = query.get(prefix + 'cmap');
  return {
    colormap: colormap ? colormap : null,
    reverse: query.get(prefix + 'rev') === '1',
    min: range ? min : null,
    max: range ? max : null,
    normalize: NORMALIZATIONS.includes(norm) ? norm : 'none',
    window: window !== null && window > 0 ? window : null,
    azimuth: azimuth === null ? 0 : ((azimuth % 360) + 360) % 360,
  };
}

/**
 * A tadpole track's options: kinds=a|b (absent: every kind), true=1 (true dips).
 * @returns {{kinds: ?string[], trueDip: boolean}}
 */
function readPicksOptions(query, prefix) {
  const text = query.get(prefix + 'kinds');
  const kinds = text === null ? null : [...new Set(text.split('|'))].filter((k) => KIND.test(k));
  return {kinds: kinds, trueDip: query.get(prefix + 'true') === '1'};
}

/**
 * A curve's options: "left,right[,log][,fill=V][,col=rrggbb]".
 * @param {string} mnemonic @param {?string} text
 * @returns {{mnemonic: string, left: ?number, right: ?number, log: ?boolean,
 *   fill: ?number, colour: ?string}} null fields: the page's default.
 */
export function parseCurveOptions(mnemonic, text) {
  const curve = {mnemonic: mnemonic, left: null, right: null, log: null, fill: null, colour: null};
  if (!text) {
    return curve;
  }
  const parts = text.split(',');
  const left = finite(parts[0]);
  const right = finite(parts[1]);
  if (left !== null && right !== null && left !== right) {
    curve.left = left;
    curve.right = right;
  }
  curve.log = parts.includes('log');
  for (const part of parts.slice(2)) {
    const [key, value] = part.split('=');
    if (key === 'fill' && finite(value) !== null) {
      curve.fill = finite(value);
    } else if (key === 'col' && COLOUR.test(value || '')) {
      curve.colour = '#' + value.toLowerCase();
    }
  }
  if (curve.log && curve.left !== null && !(curve.left > 0 && curve.right > 0)) {
    curve.left = null;
    curve.right = null;
  }
  return curve;
}

/**
 * Read the layout of a query string.
 * @param {string} search - with or without "?".
 * @returns {{tracks: ?Array<Object>, scale: ?(number|'fit'), top: ?number}}
 *   tracks null when the address has none (the page's default layout); each
 *   track {kind, width (null: default), ...} with image options (readImageOptions)
 *   or curves (parseCurveOptions).
 */
export function readLayout(search) {
  const query = new URLSearchParams(search);
  const scaleText = query.get('scale');
  const ratio = finite(scaleText);
  const scale = scaleText === 'fit' ? 'fit' : (ratio !== null && ratio > 0 ? ratio : null);
  const top = finite(query.get('top'));
  const tokens = (query.get('t') || '').split(',').filter((t) => t !== '');
  if (!tokens.length) {
    return {tracks: null, scale: scale, top: top};
  }
  const widths = (query.get('w') || '').split(',').map(finite);
  const tracks = [];
  tokens.slice(0, MAX_TRACKS).forEach((token, i) => {
    const track = parseTrackToken(token);
    if (!track) {
      return;
    }
    const width = widths[i];
    track.width = width !== null && width !== undefined && width >= WIDTH_BOUNDS.min && width <= WIDTH_BOUNDS.max
      ? width : null;
    const prefix = 't' + i + '.';
    if (track.kind === 'image') {
      Object.assign(track, readImageOptions(query, prefix));
    } else if (track.kind === 'curve') {
      track.curves = track.mnemonics.map((m) => parseCurveOptions(m, query.get(prefix + m)));
      delete track.mnemonics;
    } else if (track.kind === 'picks') {
      Object.assign(track, readPicksOptions(query, prefix));
    }
    tracks.push(track);
  });
  return {tracks: tracks, scale: scale, top: top};
}

/** Shortest text of a number up to `decimals` decimals. */
const num = (value, decimals) => String(Number(value.toFixed(decimals)));

/**
 * Write a layout into a query string.
 * @param {{tracks: Array<Object>, scale: (number|'fit'), top: number,
 *   topDecimals: number}} layout - tracks as readLayout gives them, with every
 *   field resolved (image: colormap, reverse, min/max as strings or null for the
 *   default range, normalize, window or null, azimuth; curve: curves with
 *   mnemonic, left, right, log, fill or null, colour).
 * @returns {string} "?" and the parameters.
 */
export function writeLayout(layout) {
  const query = new URLSearchParams();
  query.set('t', layout.tracks.map(trackToken).join(','));
  query.set('w', layout.tracks.map((t) => String(Math.round(t.width))).join(','));
  query.set('scale', layout.scale === 'fit' ? 'fit' : num(layout.scale, 2));
  query.set('top', num(layout.top, layout.topDecimals));
  layout.tracks.forEach((track, i) => {
    const prefix = 't' + i + '.';
    if (track.kind === 'image') {
      if (track.colormap && track.colormap !== 'gray') {
        query.set(prefix + 'cmap', track.colormap);
      }
      if (track.reverse) {
        query.set(prefix + 'rev', '1');
      }
      if (track.min !== null && track.max !== null) {
        query.set(prefix + 'min', String(track.min));
        query.set(prefix + 'max', String(track.max));
      }
      if (track.normalize !== 'none') {
        query.set(prefix + 'norm', track.normalize);
        if (track.normalize === 'dynamic' && track.window !== null) {
          query.set(prefix + 'win', num(track.window, 4));
        }
      }
      if (track.azimuth) {
        query.set(prefix + 'az', num(track.azimuth, 1));
      }
    } else if (track.kind === 'curve') {
      for (const curve of track.curves) {
        const parts = [num(curve.left, 6), num(curve.right, 6)];
        if (curve.log) {
          parts.push('log');
        }
        if (curve.fill !== null && curve.fill !== undefined) {
          parts.push('fill=' + num(curve.fill, 6));
        }
        if (curve.colour) {
          parts.push('col=' + curve.colour.replace('#', ''));
        }
        query.set(prefix + curve.mnemonic, parts.join(','));
      }
    } else if (track.kind === 'picks') {
      if (track.kinds !== null && track.kinds !== undefined) {
        query.set(prefix + 'kinds', track.kinds.join('|'));
      }
      if (track.trueDip) {
        query.set(prefix + 'true', '1');
      }
    }
  });
  return '?' + query.toString();
}
