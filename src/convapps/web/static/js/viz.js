// The "what the net sees" page: run a top-patches job over uploaded images and show the grids.
import { api, blobUrl } from "./api.js";
import { describeJob, followJob } from "./jobs.js";
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
  if (!job) return;
  current = job.id;
  $("viz-grids").replaceChildren();
  $("viz-job").hidden = false;
  const mine = job.id;
  try {
    await followJob(job.id, onUpdate, { isStale: () => current !== mine });
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

export const showViz = loadOptions;
