// Talking to Cutline's REST API the way any SPA client would: session cookie, CSRF header on unsafe
// requests, and every failure turned into a sentence a person can read (never raw JSON or a trace).

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export const NETWORK_MESSAGE = "Cannot reach the server. Check your connection; we will keep trying.";

export class ApiError extends Error {
  constructor(message, { status = 0, code = null, errors = [], body = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.errors = errors;
    this.body = body;
  }
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function sentence(text) {
  const trimmed = String(text || "").trim();
  if (!trimmed) return "";
  return /[.!?…]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

const STATUS_MESSAGES = {
  400: "The server could not accept this request.",
  401: "You are signed out. Reload the page and log in again.",
  403: "You are not allowed to do this. Reload the page and log in again.",
  404: "This item no longer exists. It may have been deleted.",
  409: "This changed somewhere else in the meantime.",
  413: "The file is too large to upload.",
  429: "Too many requests right now. Wait a moment and try again.",
  500: "Something went wrong on our side. Please try again.",
  502: "The server is not answering right now. Please try again in a moment.",
  503: "The service is busy or partly down. Please try again in a moment.",
  504: "The server took too long to answer. Please try again.",
};

/** The sentence for a failed response: the server's own details when it sent the contract's body. */
export function errorFromResponse(status, body) {
  let errors = [];
  let code = null;
  if (body && typeof body === "object" && !Array.isArray(body)) {
    code = typeof body.code === "string" ? body.code : null;
    if (Array.isArray(body.errors)) {
      errors = body.errors
        .filter((item) => item && typeof item === "object")
        .map((item) => ({
          code: String(item.code || "invalid"),
          detail: String(item.detail || ""),
          attr: item.attr == null ? null : String(item.attr),
        }));
    }
  }
  const details = [...new Set(errors.map((item) => sentence(item.detail)).filter(Boolean))];
  let message = details.join(" ");
  if (status === 403 && /csrf/i.test(message)) {
    message = "Your session has expired. Reload the page and try again.";
  }
  if (status >= 500 || !message) {
    message = STATUS_MESSAGES[status] || (status >= 500 ? STATUS_MESSAGES[500] : STATUS_MESSAGES[400]);
  }
  return new ApiError(message, { status, code, errors, body });
}

function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null; // an HTML error page from a proxy: the status code decides the sentence
  }
}

export async function api(path, { method = "GET", body, headers = {}, signal } = {}) {
  const init = { method, credentials: "same-origin", signal, headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (!SAFE_METHODS.has(method)) init.headers["X-CSRFToken"] = csrfToken();
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    throw new ApiError(NETWORK_MESSAGE, { status: 0 });
  }
  const data = response.status === 204 ? null : parseJson(await response.text());
  if (!response.ok) throw errorFromResponse(response.status, data);
  return data;
}

/** Every item of a paginated DRF list (follows `next` links on our own origin only). */
export async function apiList(path) {
  const items = [];
  let url = path;
  for (let page = 0; url && page < 100; page += 1) {
    const data = await api(url);
    if (Array.isArray(data)) return data;
    items.push(...(data.results || []));
    url = data.next ? new URL(data.next, location.origin) : null;
    if (url && url.origin !== location.origin) break;
    url = url ? url.pathname + url.search : null;
  }
  return items;
}

/**
 * Upload one file with XMLHttpRequest so the page can show upload progress (fetch cannot).
 * Returns {promise, abort}; onProgress receives a fraction 0..1.
 */
export function uploadFile(path, file, { onProgress, fields = {} } = {}) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open("POST", path);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      const data = parseJson(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(errorFromResponse(xhr.status, data));
    });
    xhr.addEventListener("error", () => reject(new ApiError(NETWORK_MESSAGE, { status: 0 })));
    xhr.addEventListener("abort", () => reject(new ApiError("The upload was stopped.", { status: 0, code: "aborted" })));
    const form = new FormData();
    form.append("file", file, file.name);
    for (const [key, value] of Object.entries(fields)) form.append(key, value);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

/** A sentence for anything thrown; never a stack trace. */
export function describeError(error) {
  if (error instanceof ApiError) return error.message;
  return "Something went wrong in this page. Reload it to continue.";
}
