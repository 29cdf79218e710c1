// The "style" page: choose a content photo (shown at once) and shipped or uploaded paintings, submit a
// style-transfer job, follow its progress, show and download the result. Input limits come from the API;
// this key's recent jobs are listed, and the newest is shown again after a reload.
import { api, blobUrl, fetchBlob } from "./api.js";
import { describeJob, followJob, isActive, recentJobs, renderJobList } from "./jobs.js";
import { $, busy, el, firstFile, previewFile, showError } from "./ui.js";

let presets = [];
let choices = null; // { limits, samples } from /api/style/options
const sampleBlobs = new Map(); // sample id -> Blob (fetched once, uploaded as a style image)
const chosen = new Set(); // ids of the shipped samples picked
let current = null; // id of the job shown on the page
let lastPreview = 0;

const FIELDS = [["size", "style-size"], ["steps", "style-steps"], ["style_weight", "style-weight"]];

async function loadPresets() {
  if (presets.length) return;
  presets = await api("/api/style/presets");
  $("style-preset").replaceChildren(...presets.map((p) => el("option", { value: p.name }, p.name)));
  const preferred = presets.find((p) => p.default) || presets[0];
  if (preferred) $("style-preset").value = preferred.name;
  describePreset();
}

async function loadChoices() {
  if (choices) return;
  choices = await api("/api/style/options");
  for (const [field, id] of FIELDS) {
    const range = choices.limits[field];
    if (!range) continue;
    $(id).min = String(range.min);
    if (range.max === null) $(id).removeAttribute("max");
    else $(id).max = String(range.max);
    const words = range.max === null ? `, at least ${range.min}` : `, ${range.min}–${range.max}`;
    document.querySelector(`[data-range="${field}"]`).textContent = words;
  }
  $("style-samples").replaceChildren(...choices.samples.map(sampleButton));
}

function sampleButton(sample) {
  const img = el("img", { alt: "" });
  const button = el("button", {
    type: "button", class: "sample", "data-sample": sample.id, "aria-pressed": "false", title: sample.credit,
    onclick: () => {
      if (chosen.has(sample.id)) chosen.delete(sample.id);
      else chosen.add(sample.id);
      button.setAttribute("aria-pressed", String(chosen.has(sample.id)));
    },
  }, img, el("span", {}, sample.title));
  fetchBlob(sample.url).then((blob) => {
    sampleBlobs.set(sample.id, blob);
    img.src = URL.createObjectURL(blob);
  }).catch(() => {});
  return button;
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
  $("style-cancel").hidden = !isActive(job);
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

async function sampleFiles() {
  return Promise.all([...chosen].map(async (id) => {
    const blob = sampleBlobs.get(id) || await fetchBlob(`/api/style/samples/${id}`);
    return new File([blob], `${id}.png`, { type: "image/png" });
  }));
}

async function start(event) {
  event.preventDefault();
  const content = firstFile($("style-content"));
  const uploads = [...($("style-styles").files || [])];
  if (!content || !(uploads.length || chosen.size)) {
    showError("style-error", "Choose a content photo and at least one painting (or upload a style image).");
    return;
  }
  const job = await busy($("style-submit"), "Submitting…", "style-error", async () => {
    const form = new FormData();
    form.append("content", content);
    [...await sampleFiles(), ...uploads].forEach((s) => form.append("styles", s));
    form.append("preset", $("style-preset").value);
    form.append("network", $("style-network").value);
    form.append("strength", $("style-strength").value);
    for (const [field, id] of FIELDS) {
      if ($(id).value !== "") form.append(field, $(id).value);
    }
    return api("/api/style/jobs", { method: "POST", form });
  });
  if (job) await follow(job);
}

async function follow(job) {
  current = job.id;
  showError("style-error", null);
  $("style-empty").hidden = true;
  $("style-job").hidden = false;
  for (const id of ["style-result", "style-preview", "style-download"]) $(id).hidden = true;
  listJobs().catch(() => {});
  const mine = job.id;
  try {
    await followJob(job.id, onUpdate, { isStale: () => current !== mine });
  } catch (err) {
    showError("style-error", err);
  }
  if (current === mine) listJobs().catch(() => {});
}

async function listJobs() {
  const jobs = await recentJobs("style");
  renderJobList("style-recent", "style-jobs", jobs, current, follow);
  return jobs;
}

/** After a reload: show this key's newest style job again (running ones keep being followed). */
async function resume() {
  const jobs = await listJobs();
  if (!current && jobs.length) follow(jobs.find(isActive) || jobs[0]);
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
  $("style-content").addEventListener("change", () => {
    previewFile(firstFile($("style-content")), $("style-content-preview"));
  });
  $("style-cancel").addEventListener("click", cancel);
}

export async function showStyle() {
  try {
    await Promise.all([loadPresets(), loadChoices()]);
    if (!current) await resume();
  } catch (err) {
    showError("style-error", err);
  }
}
