// Background jobs: poll one until it is done, failed or cancelled; list this key's recent jobs (they
// outlive the page: a reload shows them again).
import { api } from "./api.js";
import { el, sleep } from "./ui.js";

const FINAL = new Set(["done", "failed", "cancelled"]);

/** Poll `/api/jobs/{id}` and call `onUpdate(job)` after each answer; resolves to the final job. */
export async function followJob(id, onUpdate, { interval = 500, isStale = () => false } = {}) {
  for (;;) {
    const job = await api(`/api/jobs/${id}`);
    if (isStale()) return job;
    onUpdate(job);
    if (FINAL.has(job.state)) return job;
    await sleep(interval);
  }
}

export function isActive(job) {
  return !FINAL.has(job.state);
}

export function describeJob(job) {
  const pct = `${Math.round(job.progress * 100)}%`;
  if (job.state === "queued") return "Waiting for a free worker…";
  if (job.state === "running") return `${pct} · ${job.message}`;
  if (job.state === "done") return "Done.";
  if (job.state === "cancelled") return "Cancelled.";
  return `Failed: ${job.error || "unknown error"}`;
}

/** This API key's jobs of one kind ("style", "viz"), newest first. */
export async function recentJobs(kind) {
  const jobs = await api("/api/jobs");
  return jobs.filter((job) => job.kind === kind);
}

const STATE_WORDS = { queued: "waiting", running: "running", done: "done", failed: "failed", cancelled: "cancelled" };

/** Show `jobs` in the list `listId` (inside `boxId`), each with a button that calls `onShow(job)`. */
export function renderJobList(boxId, listId, jobs, currentId, onShow) {
  document.getElementById(boxId).hidden = jobs.length === 0;
  document.getElementById(listId).replaceChildren(...jobs.slice(0, 8).map((job) => {
    const when = new Date(job.created * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const state = job.state === "running" ? `running, ${Math.round(job.progress * 100)}%` : STATE_WORDS[job.state];
    const button = el("button", { type: "button", class: "link", onclick: () => onShow(job) }, "Show");
    if (job.id === currentId) button.disabled = true;
    return el("li", { "data-job": job.id, "data-state": job.state }, el("span", {}, `${when} · ${state}`), button);
  }));
}
