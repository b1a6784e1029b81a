/**
 * The "Download region" link: the depth range in view, in the chosen format,
 * drawn with the colours on screen (except NPY, the stored values).
 * @module region
 */

/** Larger regions are scaled down to this height in these formats (their size limits). */
const FORMAT_MAX_SIDE = {jpeg: 65535, webp: 16383};

/**
 * The region endpoint's URL for a depth range.
 * @param {string} regionUrl - /api/v1/images/<id>/data/region.
 * @param {string} format - png, jpeg, webp, tiff or npy.
 * @param {string} top - depth of the first row, as written on the page.
 * @param {string} bottom - depth of the last row.
 * @param {number} rows - rows in the range.
 * @param {URLSearchParams} style - palette, min and max (TileStyle.query()).
 * @returns {string}
 */
export function regionHref(regionUrl, format, top, bottom, rows, style) {
  const query = new URLSearchParams({depth_min: top, depth_max: bottom});
  if (format !== 'npy') {  // npy holds the stored values: no colours
    for (const [key, value] of style) {
      query.set(key, value);
    }
    const limit = FORMAT_MAX_SIDE[format];
    if (limit && rows > limit) {
      query.set('max_height', String(limit));
    }
  }
  return regionUrl + '.' + format + '?' + query.toString();
}

export class RegionLink {
  /**
   * Fill the format select.
   * @param {{region_url: string, region_formats: string[], name: string,
   *   depth_unit: string}} config - the page configuration.
   * @param {function()} onChange - called when another format is chosen.
   */
  constructor(config, onChange) {
    this.config = config;
    this.link = document.getElementById('region-link');
    this.format = document.getElementById('region-format');
    for (const format of config.region_formats) {
      this.format.add(new Option(format.toUpperCase(), format));
    }
    this.format.addEventListener('change', onChange);
  }

  /**
   * Point the link at a depth range.
   * @param {string} top - depth of the first row in view, as written on the page.
   * @param {string} bottom - depth of the last row in view.
   * @param {number} rows - rows in view.
   * @param {URLSearchParams} style - palette, min and max (TileStyle.query()).
   */
  update(top, bottom, rows, style) {
    const format = this.format.value;
    this.link.href = regionHref(this.config.region_url, format, top, bottom, rows, style);
    this.link.download = this.config.name + '_' + top + '-' + bottom + this.config.depth_unit + '.' + format;
  }
}
