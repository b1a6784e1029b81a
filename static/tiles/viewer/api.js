/**
 * The viewer's calls to the server: JSON resources, the image's status, one
 * pixel's stored value, and GeoJS (a classic script of django_large_image's
 * static files).
 * @module api
 */

/** The body of a 2xx JSON answer; else an Error "<prefix>HTTP <status>". */
function jsonOf(response, prefix) {
  if (!response.ok) {
    throw new Error(prefix + 'HTTP ' + response.status);
  }
  return response.json();
}

/**
 * GET a JSON resource.
 * @param {string} url
 * @returns {Promise<any>} the decoded body.
 * @throws {Error} "<url>: HTTP <status>" for an answer that is not 2xx.
 */
export function fetchJson(url) {
  return fetch(url, {headers: {Accept: 'application/json'}}).then((response) => jsonOf(response, url + ': '));
}

/**
 * The image's detail (status, progress, error), never from a cache: what a page
 * polls while the image is ingested.
 * @param {string} detailUrl - /api/v1/images/<id>.
 * @returns {Promise<Object>}
 * @throws {Error} "HTTP <status>" for an answer that is not 2xx.
 */
export function fetchImage(detailUrl) {
  return fetch(detailUrl, {headers: {Accept: 'application/json'}, cache: 'no-store'})
    .then((response) => jsonOf(response, ''));
}

/**
 * The stored value of one pixel.
 * @param {string} pixelUrl - /api/v1/images/<id>/data/pixel.
 * @param {number} row - image row (0 the shallowest).
 * @param {number} column - image column.
 * @param {AbortSignal} signal - aborts the request.
 * @returns {Promise<?{value: ?number}>} the answer, or null when the server
 *   refused (value null: nodata).
 */
export function fetchPixel(pixelUrl, row, column, signal) {
  const query = new URLSearchParams({left: String(column), top: String(row)});
  return fetch(pixelUrl + '?' + query.toString(), {signal: signal})
    .then((response) => (response.ok ? response.json() : null));
}

/**
 * Load a classic script once (GeoJS defines window.geo).
 * @param {string} src
 * @returns {Promise<void>}
 * @throws {Error} "cannot load <src>".
 */
export function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error('cannot load ' + src));
    document.head.appendChild(script);
  });
}
