// Talking to the convapps API: the API key, JSON requests, error messages people can act on.
const KEY_STORAGE = "convapps.apiKey";

export class ApiError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

export function getKey() {
  return localStorage.getItem(KEY_STORAGE);
}

export function setKey(key) {
  localStorage.setItem(KEY_STORAGE, key.trim());
}

export function clearKey() {
  localStorage.removeItem(KEY_STORAGE);
}

const listeners = new Set();
/** Called with the error whenever the service answers 401 (the key was revoked or is wrong). */
export function onUnauthorized(fn) {
  listeners.add(fn);
}

function explain(status, body) {
  if (body && body.error && body.error.message) {
    return new ApiError(status, body.error.type, body.error.message);
  }
  if (status === 413) return new ApiError(status, "UploadTooLargeError", "The file is too large for this service.");
  return new ApiError(status, "HTTPError", `The service answered ${status}.`);
}

async function send(path, { method = "GET", form = null, json = null, cache = "no-store" } = {}) {
  const headers = {};
  const key = getKey();
  if (key) headers["Authorization"] = `Bearer ${key}`;
  let body = null;
  if (form) body = form;
  if (json) {
    body = JSON.stringify(json);
    headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, cache });
  } catch (err) {
    throw new ApiError(0, "NetworkError", "Cannot reach the service. Is `convapps serve` still running?");
  }
  if (!response.ok) {
    let parsed = null;
    try { parsed = await response.json(); } catch (_) { /* not JSON */ }
    const error = explain(response.status, parsed);
    if (response.status === 401) listeners.forEach((fn) => fn(error));
    throw error;
  }
  return response;
}

/** A JSON request; resolves to the parsed body or throws ApiError with the service's message. */
export async function api(path, options = {}) {
  const response = await send(path, options);
  return response.status === 204 ? null : response.json();
}

/** Fetch a file (with the API key) as a Blob; `cache: "default"` lets the browser reuse its copy. */
export async function fetchBlob(path, { cache = "no-store" } = {}) {
  const response = await send(path, { cache });
  return response.blob();
}

/** Fetch an image (with the API key) and return an object URL for <img src>. */
export async function blobUrl(path, options = {}) {
  return URL.createObjectURL(await fetchBlob(path, options));
}
