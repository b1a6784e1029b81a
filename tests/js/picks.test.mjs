// Pure helpers of the workstation's picks (static/tiles/well/picks.js): node --test tests/js/
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';

import {
  DEFAULT_KINDS, KIND_COLOURS, OTHER_COLOUR, azimuthX, dipOf, distinctAzimuths, fetchWindow, fitSinusoid, holds,
  kindColour, sinusoidDepth, sinusoidPolyline, sinusoidSpan, tadpole, tadpoleAngles, wallAzimuth,
} from '../../static/tiles/well/picks.js';
import {parseTrackToken, readLayout, writeLayout} from '../../static/tiles/well/state.js';

const close = (actual, expected, tolerance, what) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} != ${expected} ± ${tolerance}`);

/** An 8.5-inch hole in metres. */
const D = 8.5 * 0.0254;

describe('fitSinusoid agrees with the server (picks/core.py fit_sinusoid)', () => {
  test('five noisy points across the seam: the numbers of the server, and the exact ones to 1e-12', () => {
    // python: core.fit_sinusoid([350, 10, 95, 200, 271.5], [9100.31, 9100.12, 9099.95, 9100.4, 9100.05])
    const azimuths = [350, 10, 95, 200, 271.5];
    const depths = [9100.31, 9100.12, 9099.95, 9100.4, 9100.05];
    const fit = fitSinusoid(azimuths.map((a, i) => ({azimuth: a, depth: depths[i]})));
    close(fit.depth, 9100.16540696266, 1e-9, 'd0');
    close(fit.amplitude, 0.09985865526614798, 1e-9, 'amplitude');
    close(fit.rms, 0.15115881907277706, 1e-9, 'rms');
    close(dipOf(fit.amplitude, D), 42.77022840769693, 1e-9, 'dip');
    // Both solve about the mean depth; the exact 252.030110658949375 is the normal
    // equations in 50 digits (mpmath).
    close(fit.dipAzimuth, 252.0301106589494, 1e-12, 'dip azimuth (server)');
    close(fit.dipAzimuth, 252.030110658949375, 1e-12, 'dip azimuth (exact)');
    close(fit.depth, 9100.16540696266079, 1e-11, 'd0 (exact)');
    close(fit.amplitude, 0.0998586552661479151, 1e-13, 'amplitude (exact)');
    assert.equal(fit.points, 5);
  });

  test('three points of a known plane are fitted exactly, the dip azimuth near the seam', () => {
    const plane = {depth: 9200, amplitude: 0.05, dipAzimuth: 355};
    const points = [30, 150, 270].map((a) => ({azimuth: a, depth: sinusoidDepth(plane, a)}));
    const fit = fitSinusoid(points);
    close(fit.depth, 9200, 1e-9, 'd0');
    close(fit.amplitude, 0.05, 1e-9, 'amplitude');
    close(fit.dipAzimuth, 355, 1e-6, 'dip azimuth');
    close(fit.rms, 0, 1e-9, 'rms');
    // Azimuths given past 360 or negative are the same angles.
    const turned = fitSinusoid(points.map((p, i) => ({...p, azimuth: p.azimuth + (i - 1) * 360})));
    close(turned.dipAzimuth, 355, 1e-6, 'dip azimuth, azimuths mod 360');
  });

  test('for dips from 0 to 80 degrees and every azimuth, dip and azimuth come back', () => {
    for (const dip of [0, 5, 30, 60, 80]) {
      for (const azimuth of [0, 45, 179, 359.5]) {
        const plane = {depth: 1000, amplitude: D / 2 * Math.tan(dip * Math.PI / 180), dipAzimuth: azimuth};
        const fit = fitSinusoid([10, 100, 200, 300].map((a) => ({azimuth: a, depth: sinusoidDepth(plane, a)})));
        close(dipOf(fit.amplitude, D), dip, 1e-9, `dip ${dip}`);
        if (dip > 0) {
          close(((fit.dipAzimuth - azimuth + 540) % 360) - 180, 0, 1e-6, `azimuth ${azimuth}`);
        }
      }
    }
  });

  test('fewer than three distinct azimuths, or a value that is not a number: no fit', () => {
    assert.equal(fitSinusoid([{azimuth: 10, depth: 1}, {azimuth: 20, depth: 2}]), null);
    assert.equal(fitSinusoid([{azimuth: 10, depth: 1}, {azimuth: 370, depth: 2}, {azimuth: 20, depth: 3}]), null);
    assert.equal(fitSinusoid([{azimuth: 0, depth: 1}, {azimuth: 359.9999999, depth: 2}, {azimuth: 20, depth: 3}]), null);
    assert.equal(fitSinusoid([{azimuth: 0, depth: 1}, {azimuth: NaN, depth: 2}, {azimuth: 20, depth: 3}]), null);
    assert.equal(distinctAzimuths([0, 120, 240, 360]), 3);
  });

  test('dip: atan(2A / D); unknown without a diameter', () => {
    close(dipOf(D / 2, D), 45, 1e-12, '45');
    assert.equal(dipOf(0.1, null), null);
    assert.equal(dipOf(0.1, 0), null);
  });
});

describe('screen <-> wall on a turned track', () => {
  test('the left edge is the turn plus the image offset; azimuthX inverts wallAzimuth', () => {
    assert.equal(wallAzimuth(0, 200, 0, 0), 0);
    assert.equal(wallAzimuth(100, 200, 0, 0), 180);
    assert.equal(wallAzimuth(0, 200, 90, 0), 90);
    assert.equal(wallAzimuth(150, 200, 90, 30), 30);  // 270 + 90 + 30 = 390
    for (const x of [0, 13.5, 99, 199.9]) {
      close(azimuthX(wallAzimuth(x, 200, 123, -40), 200, 123, -40), x, 1e-9, `x ${x}`);
    }
  });

  test('the polyline follows the sinusoid across the track, through the seam without a break', () => {
    const view = {depthToY: (d) => (d - 100) * 10};
    const s = {depth: 101, amplitude: 0.5, dipAzimuth: 0};
    const [line, ...rest] = sinusoidPolyline(s, {width: 360, turn: 270, offset: 0}, view, 1);
    assert.equal(rest.length, 0);
    assert.equal(line.length, 361);
    assert.deepEqual(line[0].map(Number), [0, 10]);  // azimuth 270: d0
    close(line[90][1], 15, 1e-9, 'azimuth 0 (the seam, x = 90): deepest');
    close(line[89][1], 15 - 0.5 * 10 * (1 - Math.cos(Math.PI / 180)), 1e-9, 'just before the seam');
    close(line[270][1], 5, 1e-9, 'azimuth 180: shallowest');
    assert.deepEqual(sinusoidSpan(s), {min: 100.5, max: 101.5});
  });

  test('a wider track scales x, not the depths', () => {
    const view = {depthToY: (d) => d};
    const s = {depth: 0, amplitude: 1, dipAzimuth: 90};
    const [narrow] = sinusoidPolyline(s, {width: 100, turn: 0, offset: 0}, view, 1);
    const [wide] = sinusoidPolyline(s, {width: 400, turn: 0, offset: 0}, view, 4);
    assert.equal(narrow.length, wide.length);
    narrow.forEach(([x, y], i) => {
      close(wide[i][0], 4 * x, 1e-9, 'x');
      close(wide[i][1], y, 1e-12, 'y');
    });
  });
});

describe('tadpoles', () => {
  test('the dot at the dip, the tail clockwise from up (north up)', () => {
    const north = tadpole(45, 0, 100, 196, 10);
    close(north.x, 8 + 90, 1e-9, 'x of 45 degrees');
    close(north.tailX, north.x, 1e-9, 'north: straight up');
    close(north.tailY, 90, 1e-9, 'north: straight up');
    const east = tadpole(0, 90, 100, 196, 10);
    close(east.x, 8, 1e-9, 'dip 0 at the left margin');
    close(east.tailX, 18, 1e-9, 'east: right');
    close(east.tailY, 100, 1e-9, 'east: level');
    const south = tadpole(90, 180, 50, 196, 10);
    close(south.x, 188, 1e-9, 'dip 90 at the right margin');
    close(south.tailY, 60, 1e-9, 'south: down');
    close(tadpole(30, 270, 0, 196, 10).tailX, tadpole(30, 270, 0, 196, 10).x - 10, 1e-9, 'west: left');
  });

  test('true dips when asked and known, else apparent; no dip: no tadpole', () => {
    const pick = {dip: 20, dip_azimuth: 10, true_dip: 35, true_dip_azimuth: 200};
    assert.deepEqual(tadpoleAngles(pick, true), {dip: 35, azimuth: 200, true: true});
    assert.deepEqual(tadpoleAngles(pick, false), {dip: 20, azimuth: 10, true: false});
    assert.deepEqual(tadpoleAngles({...pick, true_dip: null}, true), {dip: 20, azimuth: 10, true: false});
    assert.equal(tadpoleAngles({dip: null, dip_azimuth: 3, true_dip: null}, true), null);
  });

  test('every kind has its own colour; an unknown kind the colour of other', () => {
    assert.equal(new Set(DEFAULT_KINDS.map(kindColour)).size, DEFAULT_KINDS.length);
    assert.equal(kindColour('fault'), KIND_COLOURS.fault);
    assert.equal(kindColour('toString'), OTHER_COLOUR);
  });
});

describe('fetching and the address', () => {
  test('the window asked for is the view and half a screen either side', () => {
    assert.deepEqual(fetchWindow(100, 120), {min: 90, max: 130});
    assert.ok(holds({min: 90, max: 130}, {min: 95, max: 125}));
    assert.ok(!holds({min: 90, max: 130}, {min: 85, max: 125}));
    assert.ok(!holds(null, {min: 0, max: 1}));
  });

  test('picks:<id> is a track with its kinds and true-dip option, and round-trips', () => {
    assert.deepEqual(parseTrackToken('picks:12'), {kind: 'picks', id: 12});
    assert.equal(parseTrackToken('picks:x'), null);
    const layout = readLayout('?t=depth,img:12,picks:12&w=72,220,150&t2.kinds=fault|bedding|Bad!&t2.true=1');
    assert.deepEqual(layout.tracks[2], {kind: 'picks', id: 12, width: 150, kinds: ['fault', 'bedding'], trueDip: true});
    const all = readLayout('?t=picks:3').tracks[0];
    assert.deepEqual(all, {kind: 'picks', id: 3, width: null, kinds: null, trueDip: false});
    const search = writeLayout({
      tracks: [{kind: 'picks', id: 12, width: 150, kinds: ['fault'], trueDip: true}],
      scale: 200, top: 9000, topDecimals: 3,
    });
    assert.deepEqual(readLayout(search).tracks[0], {kind: 'picks', id: 12, width: 150, kinds: ['fault'], trueDip: true});
  });
});
