// The view state in the page address (static/tiles/viewer/url-state.js).
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';

import {readViewState, writeViewState} from '#viewer/url-state.js';

const NOTHING = {depth: null, zoom: null, colormap: null, reverse: false, min: null, max: null, stretch: null};

/** A view as the viewer writes it: 9250.0 m in the middle, zoom 11.5, defaults elsewhere. */
const view = (changes) => ({
  depth: 9250.0, depthDecimals: 3, zoom: 11.5, colormap: 'gray', reverse: false, min: null, max: null,
  stretch: 8, ...changes,
});

describe('readViewState', () => {
  test('an empty address: no state', () => {
    assert.deepEqual(readViewState(''), NOTHING);
    assert.deepEqual(readViewState('?'), NOTHING);
  });

  test('a full state, with or without "?"', () => {
    const expected = {depth: 9250.5, zoom: 11.25, colormap: 'YlOrBr', reverse: true, min: 40, max: 220, stretch: 4};
    const search = 'depth=9250.5&zoom=11.25&colormap=YlOrBr&reverse=1&min=40&max=220&stretch=4';
    assert.deepEqual(readViewState('?' + search), expected);
    assert.deepEqual(readViewState(search), expected);
  });

  test('bad values are ignored, one by one', () => {
    const cases = [
      ['depth=abc', {}],
      ['depth=', {}],
      ['depth=%20', {}],
      ['depth=Infinity', {}],
      ['depth=1e400', {}],
      ['depth=NaN', {}],
      ['zoom=twelve', {}],
      ['stretch=3', {}],  // not a choice
      ['stretch=0', {}],
      ['stretch=x', {}],
      ['reverse=yes', {}],
      ['reverse=0', {}],
      ['colormap=', {}],
      ['min=40', {}],  // min without max
      ['max=220', {}],
      ['min=220&max=40', {}],  // min > max
      ['min=a&max=220', {}],
      ['depth=abc&zoom=12&stretch=3&min=5&max=1', {zoom: 12}],  // the good ones kept
      ['depth=-5.5', {depth: -5.5}],  // clamped to the log later, not here
      ['min=-1.5&max=-1.5', {min: -1.5, max: -1.5}],
      ['stretch=16', {stretch: 16}],
    ];
    for (const [search, changes] of cases) {
      assert.deepEqual(readViewState(search), {...NOTHING, ...changes}, search);
    }
  });
});

describe('writeViewState', () => {
  test('defaults are left out; depth, zoom and stretch are always written', () => {
    assert.equal(writeViewState('', view()), '?depth=9250&zoom=11.500&stretch=8');
  });

  test('round trip of every field', () => {
    const states = [
      view(),
      view({colormap: 'viridis'}),
      view({colormap: 'viridis', reverse: true}),
      view({reverse: true}),
      view({min: '40', max: '220'}),
      view({min: '0.125', max: '1000'}),
      view({depth: 1500.0025, depthDecimals: 6, zoom: -2.125, stretch: 1}),
    ];
    for (const state of states) {
      const search = writeViewState('', state);
      const read = readViewState(search);
      assert.deepEqual(read, {
        depth: state.depth,
        zoom: state.zoom,
        colormap: state.colormap === 'gray' ? null : state.colormap,
        reverse: state.reverse,
        min: state.min === null ? null : Number(state.min),
        max: state.max === null ? null : Number(state.max),
        stretch: state.stretch,
      }, search);
      // Written again from what was read: the same address.
      assert.equal(writeViewState(search, state), search);
    }
  });

  test('rounds the depth and the zoom', () => {
    const search = writeViewState('', view({depth: 9250.123456789, depthDecimals: 3, zoom: 11.23456}));
    assert.deepEqual(readViewState(search), {...NOTHING, depth: 9250.123, zoom: 11.235, stretch: 8});
  });

  test('keeps other parameters, and removes a field back at its default', () => {
    const before = '?embed=1&colormap=viridis&reverse=1&min=1&max=2&depth=1&zoom=1&stretch=1';
    assert.equal(writeViewState(before, view()), '?embed=1&depth=9250&zoom=11.500&stretch=8');
    assert.equal(
      writeViewState('?embed=1', view({colormap: 'jet', min: '3', max: '4'})),
      '?embed=1&depth=9250&zoom=11.500&colormap=jet&min=3&max=4&stretch=8',
    );
  });

  test('encodes what it writes', () => {
    const search = writeViewState('', view({colormap: '#000,#fff'}));
    assert.ok(search.includes('colormap=%23000%2C%23fff'), search);
    assert.equal(readViewState(search).colormap, '#000,#fff');
  });
});
