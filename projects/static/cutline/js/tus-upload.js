// Resumable upload of one file with tus 1.0 (/api/uploads/): small chunks, each retried after a dropped
// connection from the offset the server reports, and resumable after a page reload (the upload's URL is
// kept in localStorage under the file's name, size and date). Same interface as api.js uploadFile:
// { promise (resolves to the asset), abort() }.

import { ApiError, NETWORK_MESSAGE, api, csrfToken, errorFromResponse } from "./api.js";

const CHUNK_BYTES = 4 * 1024 * 1024;
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 15000, 30000];
const TUS_VERSION = "1.0.0";

function storageKey(file) {
  return `cutline.tus:${file.name}:${file.size}:${file.lastModified}`;
}

function remembered(file) {
  try { return localStorage.getItem(storageKey(file)); } catch { return null; }
}

function remember(file, url) {
  try {
    if (url) localStorage.setItem(storageKey(file), url);
    else localStorage.removeItem(storageKey(file));
  } catch { /* private mode: resuming after a reload is lost, the upload still works */ }
}

function base64Text(text) {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

function parseJson(text) {
  try { return JSON.parse(text); } catch { return null; }
}

// One request; resolves to the XHR whatever its status, rejects only for a network failure or an abort.
function send(method, url, { headers = {}, body = null, onProgress, state } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    state.xhr = xhr;
    xhr.open(method, url);
    xhr.setRequestHeader("Tus-Resumable", TUS_VERSION);
    xhr.setRequestHeader("Accept", "application/json");
    if (method !== "HEAD") xhr.setRequestHeader("X-CSRFToken", csrfToken());
    for (const [key, value] of Object.entries(headers)) xhr.setRequestHeader(key, value);
    if (onProgress) xhr.upload.addEventListener("progress", (event) => onProgress(event.loaded));
    xhr.addEventListener("load", () => resolve(xhr));
    xhr.addEventListener("error", () => reject(new ApiError(NETWORK_MESSAGE, { status: 0, code: "network" })));
    xhr.addEventListener("abort", () => reject(new ApiError("The upload was stopped.", { status: 0, code: "aborted" })));
    xhr.send(body);
  });
}

function failure(xhr) {
  return errorFromResponse(xhr.status, parseJson(xhr.responseText));
}

async function startOrResume(file, state) {
  const known = remembered(file);
  if (known) {
    const head = await send("HEAD", known, { state });
    if (head.status === 200) {
      return { url: known, offset: Number(head.getResponseHeader("Upload-Offset")),
               assetId: head.getResponseHeader("Cutline-Asset-Id") };
    }
    remember(file, null); // expired or finished elsewhere: start again
  }
  const created = await send("POST", "/api/uploads/", {
    state,
    headers: { "Upload-Length": String(file.size),
               "Upload-Metadata": `filename ${base64Text(file.name)},name ${base64Text(file.name)}` },
  });
  if (created.status !== 201) throw failure(created);
  const url = new URL(created.getResponseHeader("Location"), window.location.href).pathname;
  remember(file, url);
  return { url, offset: 0, assetId: null };
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

export function tusUpload(file, { onProgress } = {}) {
  const state = { xhr: null, aborted: false };
  const promise = (async () => {
    let { url, offset, assetId } = await startOrResume(file, state);
    let failures = 0;
    while (!assetId && offset < file.size) {
      const end = Math.min(offset + CHUNK_BYTES, file.size);
      try {
        const xhr = await send("PATCH", url, {
          state,
          body: file.slice(offset, end),
          headers: { "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(offset) },
          onProgress: (loaded) => onProgress && onProgress(Math.min(1, (offset + loaded) / file.size)),
        });
        if (xhr.status === 409) {
          // Someone (this page before a reload, another tab) moved it on: ask where it stands.
          const head = await send("HEAD", url, { state });
          if (head.status !== 200) throw failure(head);
          offset = Number(head.getResponseHeader("Upload-Offset"));
          continue;
        }
        if (xhr.status !== 204) {
          remember(file, null);
          throw failure(xhr);
        }
        offset = Number(xhr.getResponseHeader("Upload-Offset"));
        assetId = xhr.getResponseHeader("Cutline-Asset-Id");
        failures = 0;
        if (onProgress) onProgress(offset / file.size);
      } catch (error) {
        if (state.aborted || error.code !== "network" || failures >= RETRY_DELAYS_MS.length) throw error;
        await sleep(RETRY_DELAYS_MS[failures]);
        failures += 1;
        const head = await send("HEAD", url, { state }).catch(() => null);
        if (head && head.status === 200) offset = Number(head.getResponseHeader("Upload-Offset"));
      }
    }
    remember(file, null);
    return api(`/api/assets/${assetId}/`);
  })();
  return {
    promise,
    abort: () => {
      state.aborted = true;
      if (state.xhr) state.xhr.abort();
    },
  };
}
