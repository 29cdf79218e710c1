// The "check" page: identify every face in a photo (1:K) and verify one person (1:1).
import { api } from "./api.js";
import { $, busy, el, firstFile, fmt, graphemes, showError } from "./ui.js";

function loadImage(file) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => { URL.revokeObjectURL(img.src); resolve(img); };
    img.onerror = () => reject(new Error("The browser cannot display this image."));
    img.src = URL.createObjectURL(file);
  });
}

function drawFaces(img, result) {
  const canvas = $("identify-canvas");
  const { width, height } = result.image;
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  if (img) {
    ctx.drawImage(img, 0, 0, width, height);
  } else {
    ctx.fillStyle = "#888";
    ctx.fillRect(0, 0, width, height);
  }
  const line = Math.max(2, Math.round(Math.max(width, height) / 250));
  const fontSize = Math.max(12, Math.round(Math.max(width, height) / 35));
  ctx.font = `600 ${fontSize}px system-ui, sans-serif`;
  for (const face of result.faces) {
    const { left, top, right, bottom } = face.box;
    const color = face.recognized ? "#17a34a" : "#dc2626";
    ctx.strokeStyle = color;
    ctx.lineWidth = line;
    ctx.strokeRect(left, top, right - left, bottom - top);
    const number = result.faces.length > 1 ? `${result.faces.indexOf(face) + 1}: ` : "";
    const label = fitText(ctx, number + (face.recognized ? face.name : "not recognized"), width - 8);
    const place = labelBox(face.box, ctx.measureText(label).width + 8, fontSize + 6, width, height);
    ctx.fillStyle = color;
    ctx.fillRect(place.x, place.y, place.w, place.h);
    ctx.fillStyle = "#fff";
    ctx.fillText(label, place.x + 4, place.y + fontSize);
  }
}

/** `text`, cut with "…" (whole characters) so that it is at most `maxWidth` wide in the context's font. */
export function fitText(ctx, text, maxWidth) {
  if (ctx.measureText(text).width <= maxWidth) return text;
  const chars = graphemes(text);
  while (chars.length > 1 && ctx.measureText(`${chars.join("")}…`).width > maxWidth) chars.pop();
  return `${chars.join("")}…`;
}

/** Where a `w` x `h` label of a face box goes: above the box, else below, else inside its top; always
 * inside the `width` x `height` image (shifted left at the right edge). */
export function labelBox(box, w, h, width, height) {
  let y = box.top - h;
  if (y < 0) y = box.bottom + h <= height ? box.bottom : Math.max(0, box.top);
  const x = Math.max(0, Math.min(box.left, width - w));
  return { x, y: Math.min(y, Math.max(0, height - h)), w: Math.min(w, width), h };
}

// One face: the decision as a sentence, then the numbers behind it in a smaller line.
function describeFace(face, index) {
  const details = [];
  if (face.score !== null) details.push(`score ${fmt(face.score, 2)} (distance ${fmt(face.distance, 2)})`);
  if (face.second_name) details.push(`next: ${face.second_name}, score ${fmt(face.second_score, 2)}`);
  if (face.margin !== null) details.push(`margin ${fmt(face.margin, 2)}`);
  details.push(face.tau_reason);
  return el("li", { "data-face": index, class: face.recognized ? "known" : "unknown" },
    el("span", { class: "sentence" }, face.sentence),
    el("span", { class: "details" }, details.join(" · ")));
}

async function identify(event) {
  event.preventDefault();
  const file = firstFile($("identify-file"));
  if (!file) { showError("identify-error", "Choose a photo first."); return; }
  $("identify-result").hidden = true;
  await busy($("identify-submit"), "Looking…", "identify-error", async () => {
    const form = new FormData();
    form.append("photo", file);
    form.append("far", $("identify-far").value);
    const result = await api("/api/faces/identify", { method: "POST", form });
    const img = await loadImage(file).catch(() => null); // e.g. a TIFF: the service reads it, browsers may not
    drawFaces(img, result);
    const list = $("identify-faces");
    list.replaceChildren(...result.faces.map(describeFace));
    if (!result.faces.length) list.replaceChildren(el("li", { class: "empty" }, "No face found in this photo."));
    $("identify-tau").textContent = `Limit used: ${result.tau_reason}.`;
    $("identify-result").hidden = false;
  });
}

async function verify(event) {
  event.preventDefault();
  const mode = document.querySelector("input[name=verify-mode]:checked").value;
  const file = firstFile($("verify-file"));
  const form = new FormData();
  if (!file) { showError("verify-error", "Choose a photo first."); return; }
  form.append("photo", file);
  if (mode === "photo") {
    const second = firstFile($("verify-file2"));
    if (!second) { showError("verify-error", "Choose the second photo."); return; }
    form.append("photo2", second);
  } else {
    if (!$("verify-name").value) { showError("verify-error", "Nobody is enrolled yet."); return; }
    form.append("name", $("verify-name").value);
  }
  $("verify-result").hidden = true;
  await busy($("verify-submit"), "Comparing…", "verify-error", async () => {
    const r = await api("/api/faces/verify", { method: "POST", form });
    const box = $("verify-result");
    box.className = `verdict ${r.match ? "same" : "different"}`;
    const against = r.name ? r.name : "the second photo";
    box.textContent = r.match
      ? `Same person as ${against} (distance ${fmt(r.distance)} ≤ ${fmt(r.threshold)})`
      : `Not the same person as ${against} (distance ${fmt(r.distance)} > ${fmt(r.threshold)})`;
    box.hidden = false;
  });
}

async function loadNames() {
  const select = $("verify-name");
  try {
    const data = await api("/api/people?limit=1000");
    const chosen = select.value;
    select.replaceChildren(...data.people.map((p) => el("option", { value: p.name }, p.name)));
    if (chosen) select.value = chosen;
  } catch (err) {
    showError("verify-error", err);
  }
}

async function loadThreshold() {
  try {
    const t = await api(`/api/faces/threshold?far=${encodeURIComponent($("identify-far").value)}`);
    $("identify-tau").textContent = `Limit now: ${t.identify_tau_reason}.`;
    $("threshold-info").textContent =
      `Same person when the ${t.metric} distance between encodings is at most ${fmt(t.threshold)} ` +
      `(model ${t.model_id}).`;
  } catch (_) { /* shown by the next action */ }
}

function syncMode() {
  const byName = document.querySelector("input[name=verify-mode]:checked").value === "name";
  $("verify-name").hidden = !byName;
  $("verify-file2-label").hidden = byName;
}

export function initCheck() {
  $("identify-form").addEventListener("submit", identify);
  $("verify-form").addEventListener("submit", verify);
  document.querySelectorAll("input[name=verify-mode]").forEach((r) => r.addEventListener("change", syncMode));
  $("identify-far").addEventListener("change", loadThreshold);
}

export async function showCheck() {
  syncMode();
  await Promise.all([loadNames(), loadThreshold()]);
}
