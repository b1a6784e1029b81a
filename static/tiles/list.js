/*
 * The dashboard at /: upload a CSV through the API, copy embed snippets, and keep
 * the list current.
 *
 * The upload posts the form (file, name, depth_unit) to POST /api/v1/images with
 * the user's token (Authorization: Token <key>; typed once, kept in localStorage),
 * shows the upload's progress (XMLHttpRequest upload events), then the ingestion's
 * (polling the image), and refreshes the list so the new image appears. The list
 * is refreshed in place (the page's own HTML, fetched again) while any image in it
 * is still ingesting.
 */
(function () {
  'use strict';

  const TOKEN_KEY = 'depthtiles.token';
  const POLL_MS = 1000;
  const LIST_POLL_MS = 2000;

  const el = (id) => document.getElementById(id);
  const form = el('upload-form');
  const tokenInput = el('upload-token');
  const statusBox = el('upload-status');
  const bar = el('upload-progress');
  const text = el('upload-text');

  /* ---------- the list ---------- */

  let listTimer = null;

  /** Fetch a page of the list (default: the one shown) and swap it in. */
  function refreshList(pageUrl) {
    const url = pageUrl || window.location.href;
    return fetch(url, {headers: {Accept: 'text/html'}, cache: 'no-store'})
      .then((response) => {
        if (!response.ok) {
          throw new Error('HTTP ' + response.status);
        }
        return response.text();
      })
      .then((html) => {
        const fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('image-list-body');
        if (fresh) {
          el('image-list-body').innerHTML = fresh.innerHTML;
        }
        if (pageUrl && pageUrl !== window.location.href) {
          window.history.replaceState(null, '', pageUrl);
        }
        watchList();
      });
  }

  /** While an image in the list is ingesting, refresh the list every LIST_POLL_MS. */
  function watchList() {
    window.clearTimeout(listTimer);
    const busy = document.querySelector(
      '#image-list-body .image-row[data-status=pending], #image-list-body .image-row[data-status=running]');
    if (busy) {
      listTimer = window.setTimeout(() => refreshList().catch(watchList), LIST_POLL_MS);
    }
  }

  /* ---------- embed snippets ---------- */

  function copyText(value, input) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(value);
    }
    input.select();
    return document.execCommand('copy') ? Promise.resolve() : Promise.reject(new Error('copy refused'));
  }

  document.addEventListener('click', (event) => {
    const button = event.target.closest('.copy-button');
    if (!button) {
      return;
    }
    const input = button.parentElement.querySelector('.embed-url');
    copyText(input.value, input)
      .then(() => {
        button.textContent = 'Copied';
      })
      .catch(() => {
        input.select();
        button.textContent = 'Press Ctrl+C';
      })
      .finally(() => {
        window.setTimeout(() => {
          button.textContent = 'Copy';
        }, 2000);
      });
  });
  document.addEventListener('focusin', (event) => {
    if (event.target.classList && event.target.classList.contains('embed-url')) {
      event.target.select();
    }
  });

  /* ---------- upload ---------- */

  function show(message, value, state) {
    statusBox.hidden = false;
    statusBox.dataset.state = state;
    text.textContent = message;
    if (value === null) {
      bar.removeAttribute('value');  // indeterminate
    } else {
      bar.value = value;
    }
  }

  /** The API's error message: {"error": {"message": ...}} or DRF's field errors. */
  function errorMessage(xhr) {
    let data = null;
    try {
      data = JSON.parse(xhr.responseText);
    } catch (err) {
      return 'HTTP ' + xhr.status;
    }
    const error = data && data.error;
    if (error && error.message) {
      return error.message;
    }
    return 'HTTP ' + xhr.status + ': ' + xhr.responseText.slice(0, 200);
  }

  function percent(value) {
    return Math.round((value || 0) * 100) + ' %';
  }

  /** Follow the ingestion of an uploaded image until it succeeds or fails. */
  function followIngestion(image, detailUrl, note) {
    if (image.status === 'succeeded') {
      show((note || 'Ingested') + ' “' + image.name + '”: ' + image.rows + ' × ' + image.columns + ' px.',
        1, 'done');
      const link = document.createElement('a');
      link.href = image.viewer_url;
      link.textContent = 'Open the viewer';
      link.id = 'upload-viewer-link';
      text.append(' ', link);
      el('upload-button').disabled = false;
      return refreshList(listHome());
    }
    if (image.status === 'failed') {
      const message = image.error ? image.error.message : 'unknown error';
      show('Ingestion of “' + image.name + '” failed: ' + message, 1, 'failed');
      el('upload-button').disabled = false;
      return refreshList(listHome());
    }
    show('Ingesting “' + image.name + '”… ' + percent(image.progress), image.progress || 0, 'ingesting');
    window.setTimeout(() => {
      fetch(detailUrl, {headers: {Accept: 'application/json'}, cache: 'no-store'})
        .then((response) => (response.ok ? response.json() : Promise.reject(new Error('HTTP ' + response.status))))
        .then((data) => followIngestion(data, detailUrl))
        .catch((err) => {
          show('Cannot follow the ingestion (' + err.message + '); retrying…', null, 'ingesting');
          followIngestion(image, detailUrl);
        });
    }, POLL_MS);
    return Promise.resolve();
  }

  /** The first page of the list: where a new image appears. */
  function listHome() {
    const url = new URL(window.location.href);
    url.searchParams.delete('page');
    return url.href;
  }

  function upload(event) {
    event.preventDefault();
    const file = el('upload-file').files[0];
    const token = tokenInput.value.trim();
    if (!file) {
      show('Choose a CSV file first.', 0, 'failed');
      return;
    }
    if (!token) {
      show('Paste your API token first (python manage.py createtoken USER prints one).', 0, 'failed');
      tokenInput.focus();
      return;
    }
    window.localStorage.setItem(TOKEN_KEY, token);

    const data = new FormData();
    data.append('file', file);
    const name = el('upload-name').value.trim();
    if (name) {
      data.append('name', name);
    }
    data.append('depth_unit', el('upload-unit').value);

    const xhr = new XMLHttpRequest();
    xhr.open('POST', form.dataset.uploadUrl);
    xhr.setRequestHeader('Authorization', 'Token ' + token);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) {
        const fraction = e.loaded / e.total;
        form.dataset.uploaded = String(Math.max(Number(form.dataset.uploaded || 0), fraction));
        show('Uploading ' + file.name + '… ' + percent(fraction), fraction, 'uploading');
      }
    });
    xhr.addEventListener('load', () => {
      if (xhr.status === 401 || xhr.status === 403) {
        window.localStorage.removeItem(TOKEN_KEY);
        show('The server refused the token (' + errorMessage(xhr) + '). Check it and upload again.', 0, 'failed');
        el('upload-button').disabled = false;
        return;
      }
      if (xhr.status < 200 || xhr.status >= 300) {
        show('Upload refused: ' + errorMessage(xhr), 0, 'failed');
        el('upload-button').disabled = false;
        // A CSV that fails while being read is kept as a failed image: show it.
        refreshList(listHome()).catch(() => {});
        return;
      }
      const image = JSON.parse(xhr.responseText);
      const detailUrl = form.dataset.uploadUrl + '/' + image.id;
      form.dataset.imageId = String(image.id);
      refreshList(listHome()).catch(() => {});
      // 200: the same bytes were ingested before; that image is answered.
      followIngestion(image, detailUrl, xhr.status === 200 ? 'Uploaded before as #' + image.id + ':' : null);
    });
    xhr.addEventListener('error', () => {
      show('The upload did not reach the server.', 0, 'failed');
      el('upload-button').disabled = false;
    });
    form.dataset.uploaded = '0';
    el('upload-button').disabled = true;
    show('Uploading ' + file.name + '… 0 %', 0, 'uploading');
    xhr.send(data);
  }

  tokenInput.value = window.localStorage.getItem(TOKEN_KEY) || '';
  el('forget-token').addEventListener('click', () => {
    window.localStorage.removeItem(TOKEN_KEY);
    tokenInput.value = '';
    tokenInput.focus();
  });
  form.addEventListener('submit', upload);
  watchList();
})();
