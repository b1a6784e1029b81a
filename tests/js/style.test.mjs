// The tiles' colours (static/tiles/viewer/style.js): value range, colormaps, the query.
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';

import {TileStyle, colormapCatalogue, valueScale} from '#viewer/style.js';

const UINT8 = {dtype: 'uint8', value_min: 3, value_max: 250, value_p2: 20, value_p98: 230};
const RESISTIVITY = {dtype: 'float32', value_min: 1.02, value_max: 998.7, value_p2: 1.5, value_p98: 950.25};
const LIST = ['gray', 'viridis', 'viridis_r', 'YlOrBr', 'YlOrBr_r', 'rdylbu_r', 'jet'].map((name) => ({
  name: name, legend_url: '/api/v1/colormaps/' + name + '.png', featured: name !== 'jet',
}));
const NO_STATE = {colormap: null, reverse: false, min: null, max: null};

describe('valueScale', () => {
  test('uint8: 0..255 in steps of 1, whatever the statistics', () => {
    const scale = valueScale(UINT8);
    assert.deepEqual([scale.low, scale.high, scale.spanLow, scale.spanHigh, scale.step], [0, 255, 0, 255, 1]);
    assert.equal(scale.format(127.6), '128');
  });

  test('float32: opens on the 2nd..98th percentiles, sliders over the value range', () => {
    const scale = valueScale(RESISTIVITY);
    assert.deepEqual([scale.low, scale.high, scale.spanLow, scale.spanHigh], [1.5, 950.25, 1.02, 998.7]);
    assert.equal(scale.step, 1);  // (998.7 - 1.02) / 1000 -> 1
    assert.equal(scale.format(950.25), '950');
  });

  test('float32 without statistics, or a flat log', () => {
    const none = valueScale({dtype: 'float32', value_min: null, value_max: null, value_p2: null, value_p98: null});
    assert.deepEqual([none.low, none.high], [0, 1]);
    const flat = valueScale({dtype: 'float32', value_min: 5, value_max: 5, value_p2: 5, value_p98: 5});
    assert.deepEqual([flat.low, flat.high, flat.spanLow, flat.spanHigh], [5, 6, 5, 6]);
    assert.equal(flat.step, 0.001);  // a span of 1 in about 1000 steps
    assert.equal(flat.format(5.0014), '5.001');
  });
});

describe('colormapCatalogue', () => {
  test('a reversal is offered through its base name', () => {
    const catalogue = colormapCatalogue(LIST);
    assert.deepEqual(catalogue.choices.map((c) => c.name), ['gray', 'viridis', 'YlOrBr', 'rdylbu_r', 'jet']);
    assert.equal(catalogue.reversed('viridis'), 'viridis_r');
    assert.equal(catalogue.reversed('viridis_r'), 'viridis');
    assert.equal(catalogue.reversed('rdylbu_r'), null);  // no "rdylbu"
    assert.equal(catalogue.reversed('jet'), null);
    assert.equal(catalogue.legends.get('YlOrBr_r'), '/api/v1/colormaps/YlOrBr_r.png');
  });
});

describe('TileStyle', () => {
  const catalogue = colormapCatalogue(LIST);

  test('defaults: grey, no query', () => {
    const style = new TileStyle(catalogue, valueScale(UINT8), NO_STATE);
    assert.equal(style.drawn(), 'gray');
    assert.equal(style.query().toString(), '');
    assert.ok(style.rangeIsDefault());
  });

  test('a reversed name in the address is its base name reversed', () => {
    const style = new TileStyle(catalogue, valueScale(UINT8), {...NO_STATE, colormap: 'YlOrBr_r'});
    assert.deepEqual([style.colormap, style.reverse, style.drawn()], ['YlOrBr', true, 'YlOrBr_r']);
    const twice = new TileStyle(catalogue, valueScale(UINT8), {...NO_STATE, colormap: 'YlOrBr_r', reverse: true});
    assert.deepEqual([twice.colormap, twice.reverse, twice.drawn()], ['YlOrBr', false, 'YlOrBr']);
  });

  test('an unknown colormap is ignored; reverse without a reversal draws the colormap', () => {
    const style = new TileStyle(catalogue, valueScale(UINT8), {...NO_STATE, colormap: 'nope', reverse: true});
    assert.equal(style.colormap, 'gray');
    assert.equal(style.drawn(), 'gray');
    assert.equal(style.canReverse(), false);
  });

  test('the query of a colormap and a range', () => {
    const style = new TileStyle(catalogue, valueScale(UINT8), {colormap: 'YlOrBr', reverse: true, min: 40, max: 220});
    assert.equal(style.query().toString(), 'palette=YlOrBr_r&min=40&max=220');
    style.resetRange();
    assert.equal(style.query().toString(), 'palette=YlOrBr_r');
  });

  test('min and max stay in order', () => {
    const style = new TileStyle(catalogue, valueScale(UINT8), NO_STATE);
    style.setBound('min', 150);
    style.setBound('max', 200);
    assert.deepEqual([style.min, style.max], [150, 200]);
    style.setBound('max', 120);
    assert.deepEqual([style.min, style.max], [120, 120]);
    style.setBound('min', 130);
    assert.deepEqual([style.min, style.max], [130, 130]);
  });

  test('a range the same as the default once written is the default', () => {
    const style = new TileStyle(catalogue, valueScale(UINT8), {...NO_STATE, min: 0.2, max: 254.9});
    assert.ok(style.rangeIsDefault());
    assert.equal(style.query().toString(), '');
  });
});
