// Arithmetic of the map's view (view.js), the region link (region.js) and the readout's label.
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';

import {DepthAxis} from '#viewer/axis.js';
import {pixelLabel} from '#viewer/readout.js';
import {regionHref} from '#viewer/region.js';
import {autoStretch, fitView, scaleAt, zoomRange} from '#viewer/view.js';

// The sample log, 5460 x 200 px, in a 1165 x 703 px map: GeoJS's maxLevel is 5.
const SAMPLE = {rows: 5460, columns: 200};
const MAP = {width: 1165, height: 703};

describe('view', () => {
  test('screen px per row doubles with each zoom level', () => {
    assert.equal(scaleAt(5, 5), 1);
    assert.equal(scaleAt(8, 5), 8);
    assert.equal(scaleAt(3, 5), 0.25);
  });

  test('the sample opens stretched 8 times, whole, about 200 px wide', () => {
    const stretch = autoStretch({...SAMPLE, ...MAP});
    assert.equal(stretch, 8);
    const view = fitView({...SAMPLE, stretch: stretch, maxLevel: 5, height: MAP.height});
    assert.ok(Math.abs(view.zoom - (5 + Math.log2(703 / 5460))) < 1e-12);
    assert.deepEqual(view.center, {x: 800, y: 2730});
    const width = SAMPLE.columns * stretch * scaleAt(view.zoom, 5);
    assert.ok(width > 150 && width <= 240, width);
  });

  test('a short, wide log is not stretched', () => {
    assert.equal(autoStretch({rows: 40, columns: 300, ...MAP}), 1);
  });

  test('a log too narrow to see whole opens at its top', () => {
    const view = fitView({rows: 1_000_000, columns: 8, stretch: 1, maxLevel: 12, height: 700});
    // 12 screen px wide: 1.5 px per column and row, the top 466.7 rows in view.
    assert.ok(Math.abs(scaleAt(view.zoom, 12) - 1.5) < 1e-12);
    assert.ok(Math.abs(view.center.y - 700 / 1.5 / 2) < 1e-9);
    assert.equal(view.center.x, 4);
  });

  test('the zoom range reaches single pixels and the whole log', () => {
    assert.deepEqual(zoomRange({rows: 5460, height: 703, maxLevel: 5, min: 0}), {min: 0, max: 8});
    // A short log: zoomed in past full resolution to fill the height.
    assert.deepEqual(zoomRange({rows: 40, height: 700, maxLevel: 0, min: 0}), {min: 0, max: 5});
    // A very long log: zoomed out past GeoJS's minimum.
    assert.deepEqual(zoomRange({rows: 100_000_000, height: 700, maxLevel: 12, min: 0}), {min: -6, max: 15});
  });
});

describe('regionHref', () => {
  const style = new URLSearchParams('palette=viridis&min=40&max=220');

  test('drawn formats carry the colours; npy the stored values only', () => {
    assert.equal(
      regionHref('/api/v1/images/1/data/region', 'png', '9100.0', '9200.0', 1001, style),
      '/api/v1/images/1/data/region.png?depth_min=9100.0&depth_max=9200.0&palette=viridis&min=40&max=220',
    );
    assert.equal(
      regionHref('/api/v1/images/1/data/region', 'npy', '9100.0', '9200.0', 1001, style),
      '/api/v1/images/1/data/region.npy?depth_min=9100.0&depth_max=9200.0',
    );
  });

  test('a region taller than its format allows is scaled down', () => {
    const empty = new URLSearchParams();
    assert.ok(regionHref('/r', 'webp', '0', '1', 16384, empty).endsWith('&max_height=16383'));
    assert.ok(!regionHref('/r', 'webp', '0', '1', 16383, empty).includes('max_height'));
    assert.ok(regionHref('/r', 'jpeg', '0', '1', 70000, empty).endsWith('&max_height=65535'));
    assert.ok(!regionHref('/r', 'png', '0', '1', 70000, empty).includes('max_height'));
  });
});

describe('pixelLabel', () => {
  test('depth, row, column and azimuth of a pixel of the sample', () => {
    const axis = new DepthAxis({depthMin: 9000.1, depthStep: 0.1, rows: 5460});
    assert.equal(pixelLabel(axis, 2499, 90, 200, 'm'), 'Depth 9250.0 m · row 2499 · column 90 · azimuth 162.9°');
  });
});
