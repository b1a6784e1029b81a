/**
 * Canvas helpers shared by the viewer's depth track and the workstation's tracks:
 * a bitmap sized to its CSS box at the device's pixel ratio, and ink in the
 * canvas's own CSS colour and font (so the page's stylesheet decides them).
 * @module canvas
 */

/**
 * Size a canvas's bitmap to its CSS box at the device's pixel ratio, and clear it.
 * @param {HTMLCanvasElement} canvas
 * @returns {{ctx: CanvasRenderingContext2D, w: number, h: number, ratio: number}} a
 *   context drawing in CSS px, the box's size in CSS px and the pixel ratio.
 */
export function sizeCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return {ctx: ctx, w: w, h: h, ratio: ratio};
}

/**
 * sizeCanvas, then set the context to draw axis text and ticks in the canvas's CSS
 * colour (stroke and fill) and font, with 1 px lines.
 * @param {HTMLCanvasElement} canvas
 * @param {{font?: string, align?: CanvasTextAlign, baseline?: CanvasTextBaseline}} [options]
 *   the font when the CSS gives none ('12px sans-serif'), the text's alignment
 *   ('start') and baseline ('alphabetic').
 * @returns {{ctx: CanvasRenderingContext2D, w: number, h: number, ratio: number}} as sizeCanvas.
 */
export function axisCanvas(canvas, options = {}) {
  const sized = sizeCanvas(canvas);
  const styles = getComputedStyle(canvas);
  const ctx = sized.ctx;
  ctx.strokeStyle = styles.color;
  ctx.fillStyle = styles.color;
  ctx.lineWidth = 1;
  ctx.font = styles.font || options.font || '12px sans-serif';
  ctx.textAlign = options.align || 'start';
  ctx.textBaseline = options.baseline || 'alphabetic';
  return sized;
}
