/**
 * Picks on an image track, pure: the least-squares sinusoid through clicked
 * points, the screen <-> wall conversions of a turned track, the sinusoid's
 * polyline for drawing (continuous across the 0/360 seam), the tadpole's
 * geometry. No DOM.
 *
 * Convention (picks/core.py, README "Picks"): in a borehole of diameter D a
 * plane of dip δ and dip azimuth φ crosses the wall along
 *   depth(θ) = d0 + (D / 2) · tan(δ) · cos(θ − φ),
 * θ the azimuth; the amplitude A = (D / 2) tan δ, so δ = atan(2A / D). Column c
 * of an N-column image is centred on (c + 0.5) · 360 / N + azimuth_offset.
 *
 * An image track turned by t degrees (azimuth.js) shows column-azimuth t at its
 * left edge: screen x of a W px track is at column-azimuth x / W · 360 + t,
 * hence at wall azimuth x / W · 360 + t + azimuth_offset.
 * @module picks
 */

import {wrapDegrees} from './azimuth.js';

/** The kinds when the page gives none (settings.PICK_KINDS). */
export const DEFAULT_KINDS = Object.freeze(['bedding', 'fracture', 'fault', 'breakout', 'other']);
/** Colour of each kind (Okabe-Ito, readable on grey and colour images); others: OTHER_COLOUR. */
export const KIND_COLOURS = Object.freeze({
  bedding: '#00b050',
  fracture: '#e69f00',
  fault: '#d7263d',
  breakout: '#56b4e9',
  other: '#cc79a7',
});
export const OTHER_COLOUR = '#cc79a7';
/** Azimuths closer than this (degrees) count as one (picks/core.py AZIMUTH_TOLERANCE). */
export const AZIMUTH_TOLERANCE = 1e-6;
/** Dips of the tadpole track's axis (degrees). */
export const DIP_AXIS = Object.freeze({min: 0, max: 90});

/** @param {string} kind @returns {string} its CSS colour. */
export function kindColour(kind) {
  return Object.prototype.hasOwnProperty.call(KIND_COLOURS, kind) ? KIND_COLOURS[kind] : OTHER_COLOUR;
}

/**
 * The wall azimuth under a screen x of a turned image track.
 * @param {number} x - CSS px from the track's left edge. @param {number} width - CSS px.
 * @param {number} turn - the track's azimuth at its left edge (column-azimuth, degrees).
 * @param {number} offset - the image's azimuth_offset (degrees).
 * @returns {number} degrees in [0, 360).
 */
export function wallAzimuth(x, width, turn, offset) {
  return wrapDegrees(x / width * 360 + turn + offset);
}

/**
 * Screen x of a wall azimuth on a turned image track (the inverse of wallAzimuth).
 * @param {number} azimuth - degrees. @param {number} width @param {number} turn @param {number} offset
 * @returns {number} CSS px in [0, width).
 */
export function azimuthX(azimuth, width, turn, offset) {
  return wrapDegrees(azimuth - turn - offset) / 360 * width;
}

/** Solve a 3 x 3 system by Gaussian elimination with partial pivoting; null if singular. */
function solve3(m, v) {
  const a = m.map((row, i) => [...row, v[i]]);
  for (let col = 0; col < 3; col += 1) {
    let pivot = col;
    for (let r = col + 1; r < 3; r += 1) {
      if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) {
        pivot = r;
      }
    }
    if (!(Math.abs(a[pivot][col]) > 1e-12)) {
      return null;
    }
    [a[col], a[pivot]] = [a[pivot], a[col]];
    for (let r = 0; r < 3; r += 1) {
      if (r !== col) {
        const f = a[r][col] / a[col][col];
        for (let k = col; k < 4; k += 1) {
          a[r][k] -= f * a[col][k];
        }
      }
    }
  }
  return [a[0][3] / a[0][0], a[1][3] / a[1][1], a[2][3] / a[2][2]];
}

/** @param {number[]} azimuths - degrees. @returns {number} how many distinct (mod 360, AZIMUTH_TOLERANCE). */
export function distinctAzimuths(azimuths) {
  const keys = [...new Set(azimuths.map((a) => Math.round(wrapDegrees(a) / AZIMUTH_TOLERANCE)))].sort((p, q) => p - q);
  const full = Math.round(360 / AZIMUTH_TOLERANCE);
  if (keys.length > 1 && keys[keys.length - 1] - keys[0] >= full - 1) {
    keys.pop();  // 0 and 360 - epsilon are one azimuth
  }
  return keys.length;
}

/**
 * The least-squares sinusoid depth ≈ a + b cos θ + c sin θ through points on
 * the wall (picks/core.py fit_sinusoid): d0 = a, amplitude √(b² + c²), dip
 * azimuth atan2(c, b). Solved by the normal equations in the depths relative to
 * their mean (well conditioned at depths of thousands of metres).
 * @param {Array<{azimuth: number, depth: number}>} points - degrees, depth unit.
 * @returns {?{depth: number, amplitude: number, dipAzimuth: number, rms: number, points: number}}
 *   null for fewer than three distinct azimuths or a value that is not finite.
 */
export function fitSinusoid(points) {
  if (!points.every((p) => Number.isFinite(p.azimuth) && Number.isFinite(p.depth)) ||
      distinctAzimuths(points.map((p) => p.azimuth)) < 3) {
    return null;
  }
  const mean = points.reduce((s, p) => s + p.depth, 0) / points.length;
  const m = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  const v = [0, 0, 0];
  const rows = points.map((p) => {
    const theta = wrapDegrees(p.azimuth) * Math.PI / 180;
    return {basis: [1, Math.cos(theta), Math.sin(theta)], depth: p.depth - mean};
  });
  for (const {basis, depth} of rows) {
    for (let i = 0; i < 3; i += 1) {
      v[i] += basis[i] * depth;
      for (let j = 0; j < 3; j += 1) {
        m[i][j] += basis[i] * basis[j];
      }
    }
  }
  const solution = solve3(m, v);
  if (!solution) {
    return null;
  }
  const [a, b, c] = solution;
  const squares = rows.reduce((s, {basis, depth}) => s + (depth - a - b * basis[1] - c * basis[2]) ** 2, 0);
  const amplitude = Math.hypot(b, c);
  return {
    depth: mean + a,
    amplitude: amplitude,
    dipAzimuth: amplitude > 0 ? wrapDegrees(Math.atan2(c, b) * 180 / Math.PI) : 0,
    rms: Math.sqrt(squares / points.length),
    points: points.length,
  };
}

/**
 * @param {number} amplitude - depth unit. @param {?number} diameter - depth unit.
 * @returns {?number} the dip in degrees, atan(2A / D); null without a diameter.
 */
export function dipOf(amplitude, diameter) {
  return diameter > 0 ? Math.atan2(2 * amplitude, diameter) * 180 / Math.PI : null;
}

/**
 * @param {{depth: number, amplitude: number, dipAzimuth: number}} sinusoid
 * @param {number} azimuth - degrees. @returns {number} its depth there.
 */
export function sinusoidDepth(sinusoid, azimuth) {
  return sinusoid.depth + sinusoid.amplitude * Math.cos((azimuth - sinusoid.dipAzimuth) * Math.PI / 180);
}

/**
 * The polylines that draw a sinusoid across a turned image track: one sample
 * per `step` px, split where the track's edge cuts it (the 0/360 seam is drawn
 * continuously when it lies inside the track: azimuths are angles).
 * @param {{depth: number, amplitude: number, dipAzimuth: number}} sinusoid
 * @param {{width: number, turn: number, offset: number}} track - CSS px, degrees.
 * @param {{depthToY: function(number): number}} view - the depth axis.
 * @param {number} [step=2] - CSS px between samples.
 * @returns {Array<Array<[number, number]>>} polylines of [x, y] in CSS px, x in [0, width].
 */
export function sinusoidPolyline(sinusoid, track, view, step = 2) {
  const n = Math.max(2, Math.ceil(track.width / step));
  const line = [];
  for (let i = 0; i <= n; i += 1) {
    const x = i / n * track.width;
    const azimuth = x / track.width * 360 + track.turn + track.offset;
    line.push([x, view.depthToY(sinusoidDepth(sinusoid, azimuth))]);
  }
  return [line];
}

/**
 * The depth range a sinusoid spans: d0 ± amplitude.
 * @param {{depth: number, amplitude: number}} sinusoid @returns {{min: number, max: number}}
 */
export function sinusoidSpan(sinusoid) {
  return {min: sinusoid.depth - sinusoid.amplitude, max: sinusoid.depth + sinusoid.amplitude};
}

/**
 * A tadpole: the dot at (dip, depth) and its tail towards the dip azimuth,
 * drawn north up: azimuth 0 points up the page, 90 right (clockwise from up).
 * @param {number} dip - degrees 0..90. @param {number} azimuth - degrees.
 * @param {number} y - screen y of the depth (CSS px). @param {number} width - the track's width.
 * @param {number} tail - tail length (CSS px).
 * @param {{min: number, max: number}} [axis=DIP_AXIS] - dips at the left and right edges.
 * @param {number} [margin=8] - CSS px kept free at both edges.
 * @returns {{x: number, y: number, tailX: number, tailY: number}} CSS px.
 */
export function tadpole(dip, azimuth, y, width, tail, axis = DIP_AXIS, margin = 8) {
  const span = Math.max(1, width - 2 * margin);
  const x = margin + (Math.min(axis.max, Math.max(axis.min, dip)) - axis.min) / (axis.max - axis.min) * span;
  const radians = azimuth * Math.PI / 180;
  return {x: x, y: y, tailX: x + tail * Math.sin(radians), tailY: y - tail * Math.cos(radians)};
}

/**
 * The dip and azimuth a tadpole shows: true ones when asked for and known, else apparent.
 * @param {Object} pick - the API's pick (dip, dip_azimuth, true_dip, true_dip_azimuth).
 * @param {boolean} wantTrue
 * @returns {?{dip: number, azimuth: number, true: boolean}} null when the dip is unknown.
 */
export function tadpoleAngles(pick, wantTrue) {
  if (wantTrue && pick.true_dip !== null && pick.true_dip !== undefined) {
    return {dip: pick.true_dip, azimuth: pick.true_dip_azimuth, true: true};
  }
  if (pick.dip === null || pick.dip === undefined) {
    return null;
  }
  return {dip: pick.dip, azimuth: pick.dip_azimuth, true: false};
}

/**
 * The depth range to ask the server for, around a view: the view and half a
 * screen above and below, so a small pan needs no request.
 * @param {number} top - depth at the top edge. @param {number} bottom - at the bottom edge.
 * @returns {{min: number, max: number}}
 */
export function fetchWindow(top, bottom) {
  const half = (bottom - top) / 2;
  return {min: top - half, max: bottom + half};
}

/**
 * Whether a fetched range holds a wanted one (so the picks in hand are enough).
 * @param {?{min: number, max: number}} have @param {{min: number, max: number}} want
 */
export function holds(have, want) {
  return have !== null && have !== undefined && have.min <= want.min && have.max >= want.max;
}
