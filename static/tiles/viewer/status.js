/**
 * The status line of an image that is not ready: its ingestion's progress,
 * polled every second until it succeeds (then the page reloads with the map) or
 * fails; and why the viewer could not start.
 * @module status
 */

import {fetchImage} from './api.js';

const POLL_MS = 1000;

const el = (id) => document.getElementById(id);

/**
 * Show an image's status and progress.
 * @param {{status: string, progress: ?number, error: ?string}} data - the image's detail.
 */
export function showStatus(data) {
  const box = el('status');
  const text = el('status-text');
  box.hidden = false;
  box.className = 'status-line status-' + data.status;
  if (data.status === 'failed') {
    text.textContent = 'Ingestion failed: ' + (data.error || 'unknown error');
    const bar = el('status-progress');
    if (bar) {
      bar.remove();
    }
    return;
  }
  const percent = Math.round((data.progress || 0) * 100);
  text.textContent = 'Ingestion ' + data.status + '… ' + percent + ' %';
  let bar = el('status-progress');
  if (!bar) {
    bar = document.createElement('progress');
    bar.id = 'status-progress';
    bar.max = 1;
    box.appendChild(bar);
  }
  bar.value = data.progress || 0;
}

/**
 * Poll the image every second (every five while the server cannot be reached)
 * until it succeeds, then reload the page; stop once it failed.
 * @param {string} detailUrl - /api/v1/images/<id>.
 */
export function pollStatus(detailUrl) {
  fetchImage(detailUrl)
    .then((data) => {
      if (data.status === 'succeeded') {
        window.location.reload();
        return;
      }
      showStatus(data);
      if (data.status !== 'failed') {
        window.setTimeout(() => pollStatus(detailUrl), POLL_MS);
      }
    })
    .catch((err) => {
      el('status-text').textContent = 'Cannot reach the server (' + err.message + '); retrying…';
      window.setTimeout(() => pollStatus(detailUrl), POLL_MS * 5);
    });
}

/**
 * Say that the viewer could not start, in the status line.
 * @param {Error} err
 */
export function showStartFailure(err) {
  el('status').hidden = false;
  el('status').className = 'status-line status-failed';
  el('status-text').textContent = 'The viewer could not start: ' + err.message;
}
