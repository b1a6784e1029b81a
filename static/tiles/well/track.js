/**
 * What every track of the workstation shares: its element (a head with title,
 * buttons and settings, a readout line, a body canvas) and its width, which a
 * handle on its right edge resizes.
 * @module track
 */

import {WIDTH_BOUNDS} from './state.js';

/**
 * Build an element: el('div', {className: 'x'}, child, 'text').
 * @param {string} tag @param {Object} [props] @param {...(Node|string)} children
 * @returns {HTMLElement}
 */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === 'dataset') {
      Object.assign(node.dataset, value);
    } else if (key in node) {
      node[key] = value;
    } else {
      node.setAttribute(key, value);
    }
  }
  node.append(...children);
  return node;
}

/** A track: subclasses draw the body and fill the head. */
export class Track {
  /**
   * @param {Object} desk - the workstation (main.js): requestDraw(), changed(),
   *   move(track, step), remove(track).
   * @param {string} kind - "depth", "image" or "curve".
   * @param {string} title - the head's title.
   * @param {number} width - CSS px.
   */
  constructor(desk, kind, title, width) {
    this.desk = desk;
    this.kind = kind;
    this.width = width;
    this.title = el('span', {className: 'ws-track-title', title: title}, title);
    this.buttons = el('span', {className: 'ws-track-buttons'},
      this.button('◀', 'Move left', () => desk.move(this, -1)),
      this.button('▶', 'Move right', () => desk.move(this, 1)),
      this.button('✕', 'Remove the track', () => desk.remove(this)));
    this.settings = el('div', {className: 'ws-settings-body'});
    this.details = el('details', {className: 'ws-settings'}, el('summary', {title: 'Settings'}, '⚙'), this.settings);
    this.headBody = el('div', {className: 'ws-head-body'});
    this.head = el('div', {className: 'ws-track-head'},
      this.title, el('div', {className: 'ws-track-bar'}, this.details, this.buttons), this.headBody);
    this.readoutNode = el('div', {className: 'ws-track-readout'}, '\u00a0');
    this.canvas = el('canvas', {className: 'ws-track-body'});
    this.handle = el('div', {className: 'ws-resize', title: 'Drag to resize'});
    this.element = el('div', {className: 'ws-track ws-track-' + kind, dataset: {kind: kind}},
      this.head, this.readoutNode, this.canvas, this.handle);
    this.element.style.width = width + 'px';
    this.wireResize();
  }

  /** A small head button. */
  button(text, title, onClick) {
    const node = el('button', {type: 'button', className: 'ws-button', title: title, textContent: text});
    node.setAttribute('aria-label', title);
    node.addEventListener('click', onClick);
    return node;
  }

  /** Drag the right-edge handle to set the width (WIDTH_BOUNDS). */
  wireResize() {
    this.handle.addEventListener('pointerdown', (event) => {
      event.preventDefault();
      event.stopPropagation();
      const startX = event.clientX;
      const startWidth = this.width;
      this.handle.setPointerCapture(event.pointerId);
      const move = (e) => this.setWidth(startWidth + e.clientX - startX);
      const up = () => {
        this.handle.removeEventListener('pointermove', move);
        this.handle.removeEventListener('pointerup', up);
        this.desk.changed();
      };
      this.handle.addEventListener('pointermove', move);
      this.handle.addEventListener('pointerup', up);
    });
  }

  /** @param {number} width - CSS px, clamped to WIDTH_BOUNDS. */
  setWidth(width) {
    this.width = Math.round(Math.min(WIDTH_BOUNDS.max, Math.max(WIDTH_BOUNDS.min, width)));
    this.element.style.width = this.width + 'px';
    this.desk.requestDraw();
  }

  /**
   * Draw the body for a view.
   * @param {DepthView} view @returns {boolean} whether everything in view is drawn.
   */
  draw(view) {  // eslint-disable-line no-unused-vars
    return true;
  }

  /**
   * Show the values at the cursor.
   * @param {?{depth: number, x: ?number}} cursor - the depth under the cursor and
   *   the mouse x in this track's body (null over another track); null: no cursor.
   */
  showReadout(cursor) {  // eslint-disable-line no-unused-vars
  }

  /** @returns {Object} the track's part of the layout (state.js writeLayout). */
  state() {
    return {kind: this.kind, width: this.width};
  }

  /** @param {string} text - the readout line's text. @param {Object} [data] - its data-* attributes. */
  setReadout(text, data) {
    this.readoutNode.textContent = text || '\u00a0';
    for (const key of Object.keys(this.readoutNode.dataset)) {
      delete this.readoutNode.dataset[key];
    }
    Object.assign(this.readoutNode.dataset, data || {});
  }
}
