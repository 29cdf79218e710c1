// The "style" page: submit a style-transfer job, follow its progress, show and download the result.
import { api, blobUrl } from "./api.js";
import { describeJob, followJob } from "./jobs.js";
import { $, busy, el, firstFile, showError } from "./ui.js";

let presets = [];
let current = null; // id of the job shown on the page
let lastPreview = 0;

async function loadPresets() {
  if (presets.length) return;
  try {
    presets = await api("/api/style/presets");
  } catch (err) {
    showError("style-error", err);
    return;
  }
  $("style-preset").replaceChildren(...presets.map((p) => el("option", { value: p.name }, p.name)));
  const preferred = presets.find((p) => p.default) || presets[0];
  if (preferred) $("style-preset").value = preferred.name;
  describePreset();
}

function describePreset() {
  const p = presets.find((q) => q.name === $("style-preset").value);
  $("style-preset-info").textContent = p ? p.description : "";
}

function thumbs() {
  const files = [...($("style-styles").files || [])];
  $("style-thumbs").replaceChildren(...files.map((f) => el("img", { src: URL.createObjectURL(f), alt: f.name })));
}

async function showImage(id, path) {
  const img = $(id);
  if (img.dataset.url) URL.revokeObjectURL(img.dataset.url);
  img.dataset.url = await blobUrl(path);
  img.src = img.dataset.url;
  img.hidden = false;
  return img.dataset.url;
}

async function onUpdate(job) {
  $("style-progress").value = job.progress;
  $("style-status").textContent = describeJob(job);
  $("style-cancel").hidden = !(job.state === "queued" || job.state === "running");
  if (job.state === "running" && job.has_preview && Date.now() - lastPreview > 1500) {
    lastPreview = Date.now();
    showImage("style-preview", `/api/jobs/${job.id}/preview`).catch(() => {});
  }
  if (job.state === "failed") showError("style-error", new Error(job.error || "the job failed"));
  if (job.state === "done" && job.results.length) {
    const url = await showImage("style-result", job.results[0].url);
    $("style-preview").hidden = true;
    const link = $("style-download");
    link.href = url;
    link.download = job.results[0].name;
    link.hidden = false;
  }
}

async function start(event) {
  event.preventDefault();
  const content = firstFile($("style-content"));
  const styles = [...($("style-styles").files || [])];
  if (!content || !styles.length) { showError("style-error", "Choose a content photo and at least one style image."); return; }
  const form = new FormData();
  form.append("content", content);
  styles.forEach((s) => form.append("styles", s));
  form.append("preset", $("style-preset").value);
  for (const [field, id] of [["size", "style-size"], ["steps", "style-steps"], ["style_weight", "style-weight"]]) {
    if ($(id).value !== "") form.append(field, $(id).value);
  }
  const job = await busy($("style-submit"), "Submitting…", "style-error",
    () => api("/api/style/jobs", { method: "POST", form }));
  if (!job) return;
  current = job.id;
  $("style-empty").hidden = true;
  $("style-job").hidden = false;
  for (const id of ["style-result", "style-preview", "style-download"]) $(id).hidden = true;
  const mine = job.id;
  try {
    await followJob(job.id, onUpdate, { isStale: () => current !== mine });
  } catch (err) {
    showError("style-error", err);
  }
}

async function cancel() {
  if (!current) return;
  try {
    await api(`/api/jobs/${current}`, { method: "DELETE" });
  } catch (err) {
    showError("style-error", err);
  }
}

export function initStyle() {
  $("style-form").addEventListener("submit", start);
  $("style-preset").addEventListener("change", describePreset);
  $("style-styles").addEventListener("change", thumbs);
  $("style-cancel").addEventListener("click", cancel);
}

export const showStyle = loadPresets;
