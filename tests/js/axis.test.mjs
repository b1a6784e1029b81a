// The viewer's depth axis (static/tiles/viewer/axis.js), the mirror of ingest/axis.py.
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';

import {DepthAxis, columnAzimuth} from '#viewer/axis.js';

// The sample log (samples/img.csv): 9000.1..9546.0 m every 0.1 m, 5,460 rows.
const SAMPLE = {depth_min: 9000.1, depth_step: 0.1, rows: 5460};

describe('DepthAxis', () => {
  test('the sample log: depth range, decimals and labels', () => {
    const axis = DepthAxis.fromConfig(SAMPLE);
    assert.equal(axis.depthMin, 9000.1);
    assert.equal(axis.depthMax, 9546.0);
    assert.equal(axis.decimals, 1);
    assert.equal(axis.format(axis.rowToDepth(0)), '9000.1');
    assert.equal(axis.format(axis.rowToDepth(2499)), '9250.0');
    assert.equal(axis.format(axis.rowToDepth(5459)), '9546.0');
    assert.equal(axis.rowAt(9250.0), 2499);
  });

  test('row -> depth -> row is the identity, for several steps', () => {
    const axes = [
      {depthMin: 9000.1, depthStep: 0.1, rows: 5460},
      {depthMin: 1500, depthStep: 0.5, rows: 1000},  // a 0.5 ft log
      {depthMin: 2500.0025, depthStep: 0.0025, rows: 2_000_000},  // a fine resistivity log
      {depthMin: -12.5, depthStep: 2, rows: 300},
    ].map((a) => new DepthAxis(a));
    for (const axis of axes) {
      const rows = [0, 1, 2, 17, axis.rows >> 1, axis.rows - 2, axis.rows - 1];
      for (let i = 0; i < 200; i += 1) {
        rows.push(Math.floor((i * 7919) % axis.rows));
      }
      for (const row of rows) {
        const depth = axis.rowToDepth(row);
        assert.equal(axis.rowAt(depth), row, `row ${row} of step ${axis.depthStep}`);
        assert.ok(Math.abs(axis.depthToRow(depth) - row) < 1e-6, `depthToRow at row ${row}`);
        // The written depth reads back to the same row.
        assert.equal(axis.rowAt(Number(axis.format(depth))), row, `written depth of row ${row}`);
      }
    }
  });

  test('depth and map y: the depth of a row sits at its middle', () => {
    const axis = new DepthAxis({depthMin: 100, depthStep: 0.5, rows: 40});
    assert.equal(axis.depthToY(100), 0.5);
    assert.equal(axis.depthToY(101), 2.5);
    assert.equal(axis.yToDepth(2.5), 101);
    assert.equal(axis.yToDepth(0), 99.75);  // the top edge of row 0
    for (const y of [0, 0.5, 3.25, 39.5, 40]) {
      assert.equal(axis.depthToY(axis.yToDepth(y)), y);
    }
  });

  test('clamping to the log', () => {
    const axis = DepthAxis.fromConfig(SAMPLE);
    assert.equal(axis.rowAt(0), 0);
    assert.equal(axis.rowAt(9000.0), 0);
    assert.equal(axis.rowAt(1e9), 5459);
    assert.equal(axis.rowAt(-Infinity), 0);
    assert.equal(axis.clampRow(-3), 0);
    assert.equal(axis.clampRow(5460), 5459);
    assert.equal(axis.clampRow(12.5), 12.5);
    assert.equal(axis.clampDepth(8000), 9000.1);
    assert.equal(axis.clampDepth(9999), 9546.0);
    assert.equal(axis.clampDepth(9300), 9300);
  });

  test('rows in view', () => {
    const axis = new DepthAxis({depthMin: 0, depthStep: 1, rows: 100});
    assert.deepEqual(axis.rowsInView(0, 100), {top: 0, bottom: 99});
    assert.deepEqual(axis.rowsInView(10.5, 20.5), {top: 10, bottom: 20});
    assert.deepEqual(axis.rowsInView(10, 20), {top: 10, bottom: 19});
    assert.deepEqual(axis.rowsInView(-50, 150), {top: 0, bottom: 99});
  });

  test('a single row', () => {
    const axis = new DepthAxis({depthMin: 42.5, depthStep: 1, rows: 1});
    assert.equal(axis.depthMax, 42.5);
    assert.equal(axis.rowAt(0), 0);
    assert.equal(axis.rowAt(100), 0);
  });

  test('depth max is rounded against float noise, as in Python', () => {
    // 0.1 + 2 * 0.1 is 0.30000000000000004 in floats.
    assert.equal(new DepthAxis({depthMin: 0.1, depthStep: 0.1, rows: 3}).depthMax, 0.3);
  });

  test('refuses what is not an axis', () => {
    const bad = [
      {depthMin: 0, depthStep: 0, rows: 10},
      {depthMin: 0, depthStep: -0.1, rows: 10},
      {depthMin: 0, depthStep: NaN, rows: 10},
      {depthMin: 0, depthStep: Infinity, rows: 10},
      {depthMin: NaN, depthStep: 0.1, rows: 10},
      {depthMin: null, depthStep: 0.1, rows: 10},
      {depthMin: 0, depthStep: 0.1, rows: 0},
      {depthMin: 0, depthStep: 0.1, rows: 1.5},
      {depthMin: 0, depthStep: null, rows: 10},
    ];
    for (const args of bad) {
      assert.throws(() => new DepthAxis(args), RangeError, JSON.stringify(args));
    }
  });
});

describe('columnAzimuth', () => {
  test('the middle of each column, clockwise over 360 degrees', () => {
    assert.equal(columnAzimuth(0, 360), 0.5);
    assert.equal(columnAzimuth(0, 4), 45);
    assert.equal(columnAzimuth(3, 4), 315);
    assert.equal(columnAzimuth(90, 200).toFixed(1), '162.9');
    assert.equal(columnAzimuth(199, 200).toFixed(1), '359.1');
  });
});
