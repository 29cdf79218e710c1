// Small DOM helpers shared by the pages.
export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

export function showError(id, err) {
  const box = $(id);
  box.textContent = err ? (err.message || String(err)) : "";
  box.hidden = !err;
}

export function showNotice(id, text) {
  const box = $(id);
  box.textContent = text || "";
  box.hidden = !text;
}

/** Disable `button` while `work` runs, show "label…" on it, and put any error into `errorId`. */
export async function busy(button, label, errorId, work) {
  const original = button.textContent;
  button.disabled = true;
  button.textContent = label;
  if (errorId) showError(errorId, null);
  try {
    return await work();
  } catch (err) {
    if (errorId) showError(errorId, err);
    else throw err;
    return undefined;
  } finally {
    button.disabled = false;
    button.textContent = original;
  }
}

export function firstFile(input) {
  return input.files && input.files.length ? input.files[0] : null;
}

export function previewFile(file, img) {
  if (img.dataset.url) URL.revokeObjectURL(img.dataset.url);
  if (!file) { img.hidden = true; return; }
  img.dataset.url = URL.createObjectURL(file);
  img.src = img.dataset.url;
  img.hidden = false;
}

export function fmt(value, digits = 3) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

/** The user-perceived characters of `text` (an emoji, a flag or "e" + accent is one), not UTF-16 units. */
export function graphemes(text) {
  if (typeof Intl !== "undefined" && Intl.Segmenter) {
    return Array.from(new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text), (s) => s.segment);
  }
  return Array.from(text); // code points: at least never half an emoji
}

/** Up to two initials of a name, e.g. "Ada Lovelace" -> "AL", "🦊 Fox" -> "🦊F". */
export function initials(name) {
  return name.trim().split(/\s+/).filter(Boolean).slice(0, 2)
    .map((word) => graphemes(word)[0].toLocaleUpperCase()).join("");
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
