// The "what the net sees" page: run a top-patches job over uploaded images and show the grids.
import { api, blobUrl } from "./api.js";
import { describeJob, followJob, isActive, recentJobs, renderJobList } from "./jobs.js";
import { $, busy, el, showError } from "./ui.js";

let options = null;
let current = null;

async function loadOptions() {
  if (options) return;
  try {
    options = await api("/api/viz/options");
  } catch (err) {
    showError("viz-error", err);
    return;
  }
  $("viz-layer").replaceChildren(...options.layers.map((l) => el("option", { value: l.value }, l.label)));
  if (options.default_layer) $("viz-layer").value = options.default_layer;
  $("viz-units").max = options.max_units;
}

async function onUpdate(job) {
  $("viz-progress").value = job.progress;
  $("viz-status").textContent = describeJob(job);
  if (job.state === "failed") showError("viz-error", new Error(job.error || "the job failed"));
  if (job.state !== "done") return;
  const figures = await Promise.all(job.results.map(async (r) => {
    const img = el("img", { alt: r.caption || r.name });
    img.src = await blobUrl(r.url);
    return el("figure", {}, img, el("figcaption", {}, r.caption || r.name));
  }));
  $("viz-grids").replaceChildren(...figures);
}

async function run(event) {
  event.preventDefault();
  const files = [...($("viz-files").files || [])];
  if (!files.length) { showError("viz-error", "Choose one or more images."); return; }
  const form = new FormData();
  files.forEach((f) => form.append("images", f));
  form.append("layers", $("viz-layer").value);
  form.append("units", $("viz-units").value || "8");
  const job = await busy($("viz-submit"), "Submitting…", "viz-error",
    () => api("/api/viz/jobs", { method: "POST", form }));
  if (job) await follow(job);
}

async function follow(job) {
  current = job.id;
  showError("viz-error", null);
  $("viz-grids").replaceChildren();
  $("viz-job").hidden = false;
  listJobs().catch(() => {});
  const mine = job.id;
  try {
    await followJob(job.id, onUpdate, { isStale: () => current !== mine });
  } catch (err) {
    showError("viz-error", err);
  }
  if (current === mine) listJobs().catch(() => {});
}

async function listJobs() {
  const jobs = await recentJobs("viz");
  renderJobList("viz-recent", "viz-jobs", jobs, current, follow);
  return jobs;
}

/** After a reload: show this key's newest run again (a running one keeps being followed). */
export async function showViz() {
  await loadOptions();
  if (current) return;
  try {
    const jobs = await listJobs();
    if (jobs.length) follow(jobs.find(isActive) || jobs[0]);
  } catch (err) {
    showError("viz-error", err);
  }
}

export function initViz() {
  $("viz-form").addEventListener("submit", run);
  $("viz-files").addEventListener("change", () => {
    const n = ($("viz-files").files || []).length;
    $("viz-count").textContent = n ? `${n} image${n === 1 ? "" : "s"} chosen` : "";
  });
}
