// Tick arithmetic of the viewer (static/tiles/viewer/ticks.js): node --test tests/js/
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';

import {decimalsOf, multiplesIn, niceStep} from '#viewer/ticks.js';

const close = (actual, expected, what) =>
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} != ${expected}`);

describe('niceStep', () => {
  test('known steps, decimals and minor intervals', () => {
    const cases = [
      // minStep, step, decimals, minor
      [1, 1, 0, 5],
      [1.5, 2, 0, 4],
      [3, 5, 0, 5],
      [7, 10, 0, 5],
      [0.3, 0.5, 1, 5],
      [0.12, 0.2, 1, 4],
      [0.001, 0.001, 3, 5],
      [0.0011, 0.002, 3, 4],
      [40, 50, 0, 5],
      [123456, 200000, 0, 4],
    ];
    for (const [minStep, step, decimals, minor] of cases) {
      const nice = niceStep(minStep);
      close(nice.step, step, `step of ${minStep}`);
      assert.equal(nice.decimals, decimals, `decimals of ${minStep}`);
      assert.equal(nice.minor, minor, `minor of ${minStep}`);
    }
  });

  test('is the smallest 1, 2 or 5 x 10^k not below minStep, from 1e-6 to 1e7', () => {
    const candidates = [];
    for (let k = -7; k <= 8; k += 1) {
      for (const m of [1, 2, 5]) {
        candidates.push(m * Math.pow(10, k));
      }
    }
    let checked = 0;
    for (let exp = -6; exp <= 7; exp += 1) {
      for (const mantissa of [1, 1.01, 1.5, 1.99, 2, 2.01, 3.7, 4.99, 5, 5.01, 9.99]) {
        const minStep = mantissa * Math.pow(10, exp);
        const {step, decimals} = niceStep(minStep);
        const expected = candidates.find((c) => c >= minStep * (1 - 1e-9));
        close(step, expected, `niceStep(${minStep})`);
        // Every multiple of the step is written exactly with its decimals.
        for (const k of [1, 3, 7, 12345]) {
          close(Number((k * step).toFixed(decimals)), k * step, `${k} x ${step} in ${decimals} decimals`);
        }
        checked += 1;
      }
    }
    assert.equal(checked, 14 * 11);
  });
});

describe('decimalsOf', () => {
  test('decimals of depth steps', () => {
    const cases = [
      [1, 0],
      [2, 0],
      [0.5, 1],  // 0.5 ft
      [0.1, 1],
      [0.09999999999999994, 1],  // the 0.1 of a file, after float noise
      [0.25, 2],
      [0.0025, 4],
      [0.00254, 5],  // 0.1 in in m
      [0.1524, 4],  // 0.5 ft in m
      [2.5, 1],
      [0.00001, 5],
      [1 / 3, 6],  // no exact writing: at most 6
    ];
    for (const [step, decimals] of cases) {
      assert.equal(decimalsOf(step), decimals, `decimalsOf(${step})`);
    }
  });

  test('writes every row of a 0.0025 step exactly', () => {
    const step = 0.0025;
    const d = decimalsOf(step);
    for (let row = 0; row < 2000; row += 1) {
      const depth = 1500 + row * step;
      assert.equal(depth.toFixed(d), (1500 * 10000 + row * 25).toString().replace(/(\d{4})$/, '.$1'));
    }
  });
});

describe('multiplesIn', () => {
  test('bounds that are multiples are included', () => {
    assert.deepEqual(multiplesIn(0, 10, 5), [0, 5, 10]);
    assert.deepEqual(multiplesIn(-10, -1, 5), [-10, -5]);
  });

  test('the depth labels of the sample log', () => {
    assert.deepEqual(multiplesIn(9000.1, 9546.0, 50), [9050, 9100, 9150, 9200, 9250, 9300, 9350, 9400, 9450, 9500]);
  });

  test('float noise does not drop an end', () => {
    const values = multiplesIn(0.3, 0.9, 0.1);
    assert.equal(values.length, 7);
    close(values[0], 0.3, 'first');
    close(values[6], 0.9, 'last');
  });

  test('empty ranges and bad steps give nothing', () => {
    assert.deepEqual(multiplesIn(10, 0, 1), []);
    assert.deepEqual(multiplesIn(0.1, 0.9, 1), []);
    for (const step of [0, -1, NaN, Infinity]) {
      assert.deepEqual(multiplesIn(0, 10, step), [], `step ${step}`);
    }
    assert.deepEqual(multiplesIn(NaN, 10, 1), []);
  });
});
