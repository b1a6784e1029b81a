// Pure helpers of the workstation (static/tiles/well/): node --test tests/js/
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';

import {
  COMPASS, azimuthAt, azimuthTicks, columnAt, dragOffset, seamShifts, wrapDegrees,
} from '../../static/tiles/well/azimuth.js';
import {
  covers, curvePath, curveScale, decades, defaultLimits, fetchPlan, fillPolygon, nearestIndex, valueAt, valueAtX,
} from '../../static/tiles/well/curves.js';
import {MAX_TILES, choosePage, tileRange, tilesForView, zoomLevels} from '../../static/tiles/well/levels.js';
import {curveReadout, formatValue, imageReadout} from '../../static/tiles/well/readout.js';
import {DepthView, PRESETS, clampView, fitView, pxPerUnitAt, ratioOf} from '../../static/tiles/well/scale.js';
import {parseCurveOptions, parseTrackToken, readLayout, writeLayout} from '../../static/tiles/well/state.js';

const close = (actual, expected, tolerance, what) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} != ${expected} ± ${tolerance}`);

describe('depth scale', () => {
  test('1:200 draws a metre as 18.9 CSS px, a foot as 5.76 px (96 px per inch)', () => {
    close(pxPerUnitAt(200, 'm'), 100 / 2.54 * 96 / 200, 1e-9, '1:200 m');
    close(pxPerUnitAt(200, 'm'), 18.8976, 1e-4, '1:200 m');
    close(pxPerUnitAt(1, 'm'), 3779.5276, 1e-4, '1:1 m');
    close(pxPerUnitAt(200, 'ft'), 0.3048 * 18.8976378, 1e-6, '1:200 ft');
    close(pxPerUnitAt(240, 'ft'), 4.8, 1e-9, '1:240 ft = 1 in per 20 ft');
  });

  test('ratioOf inverts pxPerUnitAt for every preset and unit', () => {
    for (const unit of ['m', 'ft']) {
      for (const ratio of PRESETS) {
        close(ratioOf(pxPerUnitAt(ratio, unit), unit), ratio, 1e-9, `1:${ratio} ${unit}`);
      }
    }
  });

  test('depth <-> screen y, zoom about a point keeps its depth, pan moves by px', () => {
    const view = new DepthView(9000, 20);
    assert.equal(view.depthToY(9010), 200);
    assert.equal(view.yToDepth(200), 9010);
    assert.equal(view.bottom(400), 9020);
    const zoomed = view.zoomAbout(2, 100);
    close(zoomed.yToDepth(100), 9005, 1e-9, 'depth under the mouse');
    assert.equal(zoomed.pxPerUnit, 40);
    const panned = view.panBy(-40);  // drag up 40 px: deeper by 2 m
    assert.equal(panned.top, 9002);
    const rescaled = view.withScale(10, 400);
    close(rescaled.yToDepth(200), view.yToDepth(200), 1e-9, 'middle kept');
  });

  test('fit shows the whole range; clamp bounds scale and keeps the log in view', () => {
    const extent = {min: 9000.1, max: 9546};
    const fit = fitView(extent, 700);
    close(fit.depthToY(extent.min), 0, 1e-9, 'top');
    close(fit.depthToY(extent.max), 700, 1e-9, 'bottom');
    const far = clampView(new DepthView(20000, 20), extent, 700, 'm');
    close(far.bottom(700), extent.max, 1e-9, 'no deeper than the log');
    const above = clampView(new DepthView(8000, 20), extent, 700, 'm');
    close(above.top, extent.min, 1e-9, 'no shallower than the log');
    const out = clampView(new DepthView(9100, fit.pxPerUnit / 2), extent, 700, 'm');
    close(out.top, extent.min, 1e-9, 'a view longer than the log starts at its top');
    const tiny = clampView(new DepthView(9000, 1e-6), extent, 700, 'm');
    close(tiny.pxPerUnit, fit.pxPerUnit / 4, 1e-9, 'zoomed out to a quarter of fit at most');
    const huge = clampView(new DepthView(9000, 1e9), extent, 700, 'm');
    close(ratioOf(huge.pxPerUnit, 'm'), 1, 1e-9, 'zoomed in to 1:1 at most');
  });
});

describe('levels', () => {
  test('zoomLevels mirrors tiles/core/pyramid.py zoom_levels', () => {
    assert.equal(zoomLevels(200, 5460, 256), 6);
    assert.equal(zoomLevels(16, 7208, 256), 6);
    assert.equal(zoomLevels(100, 100, 256), 1);
    assert.equal(zoomLevels(256, 257, 256), 2);
  });

  test('the coarsest page still at least a device pixel per stored pixel in both directions', () => {
    const count = () => 1;
    assert.equal(choosePage({rowsPerPx: 0.2, columnsPerPx: 0.5, zooms: 6, tileCount: count}), 0);
    assert.equal(choosePage({rowsPerPx: 1.9, columnsPerPx: 8, zooms: 6, tileCount: count}), 0);
    assert.equal(choosePage({rowsPerPx: 2, columnsPerPx: 8, zooms: 6, tileCount: count}), 1);
    assert.equal(choosePage({rowsPerPx: 9, columnsPerPx: 4.1, zooms: 6, tileCount: count}), 2);
    assert.equal(choosePage({rowsPerPx: 1000, columnsPerPx: 1000, zooms: 6, tileCount: count}), 5);
  });

  test('coarser pages when the tiles would be too many', () => {
    const tiles = (page) => 1000 / Math.pow(4, page);
    assert.equal(choosePage({rowsPerPx: 0.5, columnsPerPx: 0.5, zooms: 8, tileCount: tiles}), 2);  // 62.5 <= 96
    assert.ok(tiles(2) <= MAX_TILES && tiles(1) > MAX_TILES);
  });

  test('tile range covers the rows in view, clamped to the image', () => {
    const image = {rows: 5460, columns: 200, tileSize: 256, zooms: 6};
    const r = tileRange({...image, page: 0, rowTop: 300, rowBottom: 700});
    assert.deepEqual(r, {z: 5, span: 256, xs: [0], ys: [1, 2]});
    const edge = tileRange({...image, page: 0, rowTop: -50, rowBottom: 10});
    assert.deepEqual(edge.ys, [0]);
    const past = tileRange({...image, page: 0, rowTop: 6000, rowBottom: 6100});
    assert.deepEqual(past.ys, []);
    const coarse = tileRange({...image, page: 5, rowTop: 0, rowBottom: 5460});
    assert.deepEqual(coarse, {z: 0, span: 8192, xs: [0], ys: [0]});
    const wide = tileRange({rows: 1000, columns: 600, tileSize: 256, zooms: 3, page: 0, rowTop: 0, rowBottom: 10});
    assert.deepEqual(wide.xs, [0, 1, 2]);
  });

  test('the sample at 1:200 in a 220 px track: native level; whole log in 700 px: a coarse one', () => {
    const image = {rows: 5460, columns: 200, tileSize: 256, zooms: 6};
    // 1:200, 0.1 m rows: 1.89 px per row; 700 px show 370 rows.
    const native = tilesForView(image, {rowTop: 1000, rowBottom: 1370}, {width: 220, height: 700, ratio: 1});
    assert.equal(native.page, 0);
    assert.equal(native.z, 5);
    const whole = tilesForView(image, {rowTop: 0, rowBottom: 5460}, {width: 220, height: 700, ratio: 1});
    assert.equal(whole.page, 0, 'columns: 200 in 220 px keeps page 0 despite 7.8 rows per px');
    const narrow = tilesForView(image, {rowTop: 0, rowBottom: 5460}, {width: 50, height: 700, ratio: 1});
    assert.equal(narrow.page, 2);
  });
});

describe('azimuth', () => {
  test('wrap to [0, 360)', () => {
    assert.equal(wrapDegrees(0), 0);
    assert.equal(wrapDegrees(360), 0);
    assert.equal(wrapDegrees(-90), 270);
    assert.equal(wrapDegrees(725), 5);
  });

  test('compass ticks at 0/90/180/270 with N E S W, moved by the offset', () => {
    assert.deepEqual(azimuthTicks(0, 360).map((t) => [t.label, t.x]), [['N', 0], ['E', 90], ['S', 180], ['W', 270]]);
    assert.deepEqual(azimuthTicks(90, 400).map((t) => [t.label, t.x]), [['E', 0], ['S', 100], ['W', 200], ['N', 300]]);
    assert.deepEqual(COMPASS.map((c) => c[1]), ['N', 'E', 'S', 'W']);
  });

  test('azimuth and column under x, the inverse of the ticks', () => {
    assert.equal(azimuthAt(100, 400, 0), 90);
    assert.equal(azimuthAt(300, 400, 90), 0);
    assert.equal(columnAt(0, 400, 0, 200), 0);
    assert.equal(columnAt(399.9, 400, 0, 200), 199);
    assert.equal(columnAt(0, 400, 90, 200), 50);
    assert.equal(columnAt(350, 400, 90, 200), 25);  // past the seam: 405 -> 45 degrees
  });

  test('the image is drawn twice across the seam, once when not turned', () => {
    assert.deepEqual(seamShifts(0, 400), [0]);
    assert.deepEqual(seamShifts(90, 400), [-100, 300]);
    assert.deepEqual(seamShifts(-90, 400), [-300, 100]);
  });

  test('a drag to the right turns the view back; a whole width is a whole turn', () => {
    assert.equal(dragOffset(0, 100, 400), 270);
    assert.equal(dragOffset(90, -100, 400), 180);
    assert.equal(dragOffset(30, 400, 400), 30);
  });
});

describe('curves', () => {
  test('linear and log scales, reversed limits, and what is not a scale', () => {
    const lin = curveScale({left: 0, right: 150, log: false});
    assert.equal(lin(75, 200), 100);
    assert.equal(lin(-15, 200), -20);
    const back = curveScale({left: 150, right: 0, log: false});
    close(back(150, 200), 0, 0, 'reversed left edge');
    const log = curveScale({left: 0.2, right: 2000, log: true});
    close(log(2, 200), 50, 1e-9, 'one decade of four');
    close(log(20, 200), 100, 1e-9, 'two decades');
    assert.ok(Number.isNaN(log(0, 200)) && Number.isNaN(log(-1, 200)));
    assert.equal(curveScale({left: 0, right: 100, log: true}), null);
    assert.equal(curveScale({left: 5, right: 5, log: false}), null);
    close(valueAtX({left: 0.2, right: 2000, log: true}, 100, 200), 20, 1e-9, 'inverse log');
    assert.equal(valueAtX({left: 0, right: 150, log: false}, 100, 200), 75);
  });

  test('path: breaks at nodata, clamps to the track', () => {
    const scale = curveScale({left: 0, right: 100, log: false});
    const runs = curvePath([1, 2, 3, 4, 5], [10, 200, null, 50, -10], scale, (d) => d * 10, 100);
    assert.deepEqual(runs, [[[10, 10], [100, 20]], [[50, 40], [0, 50]]]);
    const logRuns = curvePath([1, 2, 3], [1, 0, 10], curveScale({left: 1, right: 100, log: true}), (d) => d, 100);
    assert.deepEqual(logRuns, [[[0, 1]], [[50, 3]]]);
    assert.deepEqual(fillPolygon([[10, 1], [20, 2]], 0), [[0, 1], [10, 1], [20, 2], [0, 2], [0, 1]]);
  });

  test('nearest sample and value within a gap', () => {
    const depths = [1, 2, 3, 5, 8];
    assert.equal(nearestIndex(depths, 0), 0);
    assert.equal(nearestIndex(depths, 3.9), 2);
    assert.equal(nearestIndex(depths, 4.1), 3);
    assert.equal(nearestIndex(depths, 100), 4);
    assert.equal(nearestIndex([], 1), -1);
    const data = {depth: depths, value: [10, 20, null, 50, 80]};
    assert.equal(valueAt(data, 5.2, 0.5), 50);
    assert.equal(valueAt(data, 6.5, 0.5), null);
    assert.equal(valueAt(data, 3, 0.5), null);
  });

  test('fetch plan and when the data in hand serve a view', () => {
    const plan = fetchPlan(100, 110, 500);
    assert.deepEqual(plan, {depthMin: 95, depthMax: 115, maxPoints: 2000});
    assert.equal(fetchPlan(0, 1, 1e6).maxPoints, 100000);
    const have = {depthMin: 95, depthMax: 115, decimated: true, pointsPerUnit: 100};
    assert.ok(covers(have, 100, 110, 500));
    assert.ok(!covers(have, 90, 100, 500), 'outside');
    assert.ok(!covers(have, 100, 104, 500), 'zoomed in past the decimation');
    assert.ok(covers({...have, decimated: false}, 100, 104, 500), 'every sample in hand');
    assert.ok(!covers(null, 100, 110, 500));
  });

  test('default limits: nice linear range, decades for resistivity', () => {
    assert.deepEqual(defaultLimits({mnemonic: 'GR', value_min: 12.3, value_max: 141}), {left: 0, right: 150, log: false});
    assert.deepEqual(defaultLimits({mnemonic: 'ILD', value_min: 0.35, value_max: 1800}), {left: 0.1, right: 10000, log: true});
    assert.deepEqual(defaultLimits({mnemonic: 'RT', value_min: -1, value_max: 10}).log, false);
    assert.deepEqual(decades(0.2, 2000), [1, 10, 100, 1000]);
  });
});

describe('layout in the address', () => {
  test('tokens of ?t=', () => {
    assert.deepEqual(parseTrackToken('depth'), {kind: 'depth'});
    assert.deepEqual(parseTrackToken('img:12'), {kind: 'image', id: 12});
    assert.deepEqual(parseTrackToken('curve:GR|CALI|GR'), {kind: 'curve', mnemonics: ['GR', 'CALI']});
    assert.equal(parseTrackToken('img:x'), null);
    assert.equal(parseTrackToken('map'), null);
  });

  test('curve options', () => {
    assert.deepEqual(parseCurveOptions('ILD', '0.2,2000,log,fill=2,col=D55E00'),
      {mnemonic: 'ILD', left: 0.2, right: 2000, log: true, fill: 2, colour: '#d55e00'});
    assert.deepEqual(parseCurveOptions('GR', '0,0'),
      {mnemonic: 'GR', left: null, right: null, log: false, fill: null, colour: null});
    assert.equal(parseCurveOptions('ILD', '0,2000,log').left, null, 'a log scale needs limits > 0');
  });

  test('write then read gives the layout back', () => {
    const layout = {
      tracks: [
        {kind: 'depth', width: 72},
        {kind: 'image', id: 12, width: 220, colormap: 'viridis', reverse: true, min: '10', max: '200',
          normalize: 'dynamic', window: 0.6, azimuth: 90},
        {kind: 'image', id: 13, width: 300, colormap: 'gray', reverse: false, min: null, max: null,
          normalize: 'static', window: null, azimuth: 0},
        {kind: 'curve', width: 180, curves: [
          {mnemonic: 'GR', left: 0, right: 150, log: false, fill: 0, colour: '#009e73'},
          {mnemonic: 'ILD', left: 0.2, right: 2000, log: true, fill: null, colour: '#0072b2'},
        ]},
      ],
      scale: 200,
      top: 9123.456789,
      topDecimals: 3,
    };
    const search = writeLayout(layout);
    assert.match(search, /^\?t=depth%2Cimg%3A12%2Cimg%3A13%2Ccurve%3AGR%7CILD&w=72%2C220%2C300%2C180&scale=200&top=9123.457/);
    const back = readLayout(search);
    assert.equal(back.scale, 200);
    assert.equal(back.top, 9123.457);
    assert.deepEqual(back.tracks[0], {kind: 'depth', width: 72});
    assert.deepEqual(back.tracks[1], {kind: 'image', id: 12, width: 220, colormap: 'viridis', reverse: true,
      min: 10, max: 200, normalize: 'dynamic', window: 0.6, azimuth: 90});
    assert.deepEqual(back.tracks[2], {kind: 'image', id: 13, width: 300, colormap: null, reverse: false,
      min: null, max: null, normalize: 'static', window: null, azimuth: 0});
    assert.deepEqual(back.tracks[3], {kind: 'curve', width: 180, curves: [
      {mnemonic: 'GR', left: 0, right: 150, log: false, fill: 0, colour: '#009e73'},
      {mnemonic: 'ILD', left: 0.2, right: 2000, log: true, fill: null, colour: '#0072b2'},
    ]});
  });

  test('bad values are dropped, never errors; no ?t= means the default layout', () => {
    const back = readLayout('?t=depth,bogus,img:3,img:4&w=10,220,abc&scale=-5&top=x&t3.norm=wild&t3.min=9&t3.max=1&t2.az=-90');  // t<i>: i of the token in ?t=
    assert.equal(back.scale, null);
    assert.equal(back.top, null);
    assert.deepEqual(back.tracks.map((t) => t.width), [null, null, null]);
    assert.equal(back.tracks[1].azimuth, 270);
    assert.equal(back.tracks[2].normalize, 'none');
    assert.equal(back.tracks[2].min, null);
    assert.deepEqual(readLayout('?scale=fit'), {tracks: null, scale: 'fit', top: null});
    assert.equal(readLayout('?t=' + Array(40).fill('depth').join(',')).tracks.length, 16);
  });
});

describe('readout', () => {
  test('values, sectors and units', () => {
    assert.equal(formatValue(123), '123');
    assert.equal(formatValue(85.3125), '85.31');
    assert.equal(formatValue(null), 'nodata');
    assert.equal(formatValue(0.00001234), '1.234e-5');
    assert.equal(imageReadout({column: 90, columns: 200, value: undefined, unit: ''}), 'sector 90 · 162.9°');
    assert.equal(imageReadout({column: 0, columns: 16, value: 2.4567, unit: 'g/cm3'}), 'sector 0 · 11.3° · 2.457 g/cm3');
    assert.equal(imageReadout({column: 0, columns: 16, value: null, unit: 'g/cm3'}), 'sector 0 · 11.3° · nodata');
    assert.equal(curveReadout('GR', 85.31, 'gAPI'), 'GR 85.31 gAPI');
    assert.equal(curveReadout('GR', null, 'gAPI'), 'GR nodata');
  });
});
