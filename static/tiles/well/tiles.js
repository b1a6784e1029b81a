/**
 * The tiles an image track draws, loaded once and kept (least recently used
 * dropped past a limit): an <img> per tile URL.
 * @module tiles
 */

/** Tiles kept by the page, for every track. */
const KEEP = 800;

export class TileCache {
  /** @param {function()} onLoad - called when a tile arrives (redraw). */
  constructor(onLoad) {
    this.onLoad = onLoad;
    this.entries = new Map();  // url -> {image: HTMLImageElement, state: 'loading'|'ready'|'failed'}
  }

  /**
   * A tile, loading it if it is not there.
   * @param {string} url @returns {{image: HTMLImageElement, state: string}}
   */
  get(url) {
    let entry = this.entries.get(url);
    if (entry) {
      this.entries.delete(url);  // most recently used last
      this.entries.set(url, entry);
      return entry;
    }
    const image = new Image();
    entry = {image: image, state: 'loading'};
    image.onload = () => {
      entry.state = 'ready';
      this.onLoad();
    };
    image.onerror = () => {
      entry.state = 'failed';
      this.onLoad();
    };
    image.src = url;
    this.entries.set(url, entry);
    while (this.entries.size > KEEP) {
      this.entries.delete(this.entries.keys().next().value);
    }
    return entry;
  }

  /** @param {string} url @returns {?HTMLImageElement} the tile if it has arrived, without loading it. */
  ready(url) {
    const entry = this.entries.get(url);
    return entry && entry.state === 'ready' ? entry.image : null;
  }
}
