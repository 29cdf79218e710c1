// Entry point: the API-key gate, hash routing between the pages, the session bar.
import { api, clearKey, getKey, onUnauthorized, setKey } from "./api.js";
import { initArchive, showArchive } from "./archive.js";
import { initCheck, showCheck } from "./check.js";
import { initLive, leaveLive, showLive } from "./live.js";
import { initPeople, leavePeople, showPeople } from "./people.js";
import { initStyle, showStyle } from "./style.js";
import { $, showError } from "./ui.js";
import { initViz, showViz } from "./viz.js";

const PAGES = {
  people: { show: showPeople, leave: leavePeople },
  check: { show: showCheck },
  live: { show: showLive, leave: leaveLive },
  archive: { show: showArchive },
  style: { show: showStyle },
  viz: { show: showViz },
};
const FACE_PAGES = new Set(["people", "check", "live", "archive"]);
/** The service feature (see /api/health) a page needs. */
const featureOf = (page) => (FACE_PAGES.has(page) ? "faces" : page);
let features = {};
let active = null;

function takeKeyFromUrl() {
  // `make run` prints the service URL ending in #key=cvk_...: store the key, drop it from the address bar.
  const match = location.hash.match(/^#key=(cvk_[A-Za-z0-9_-]+)$/);
  if (match) {
    setKey(match[1]);
    history.replaceState(null, "", location.pathname + "#people");
  }
  return Boolean(match);
}

function showGate(message) {
  for (const section of document.querySelectorAll(".page")) section.hidden = true;
  $("gate").hidden = false;
  $("session").hidden = true;
  $("nav").hidden = true;
  showError("gate-error", message ? new Error(message) : null);
  $("gate-key").focus();
}

async function checkSession() {
  try {
    const who = await api("/api/session");
    $("session-name").textContent = `Key: ${who.key_name}`;
    $("session").hidden = false;
    $("nav").hidden = false;
    $("gate").hidden = true;
    return true;
  } catch (err) {
    if (err.status === 401) showGate(getKey() ? err.message : null);
    else showError("global-error", err);
    return false;
  }
}

function route() {
  if (!getKey()) { showGate(null); return; }
  const name = (location.hash.replace(/^#/, "") || "people").split("?")[0];
  const page = PAGES[name] ? name : "people";
  if (active && active !== page && PAGES[active].leave) PAGES[active].leave();
  active = page;
  for (const key of Object.keys(PAGES)) $(`page-${key}`).hidden = key !== page;
  for (const link of document.querySelectorAll("#nav a")) link.classList.toggle("active", link.dataset.page === page);
  const enabled = features[featureOf(page)];
  if (enabled === false) {
    showError("global-error", new Error("This part of the service is not available right now (see /api/health)."));
  } else {
    showError("global-error", null);
  }
  PAGES[page].show();
}

async function loadFeatures() {
  try {
    const health = await api("/api/health");
    features = health.features || {};
    for (const link of document.querySelectorAll("#nav a")) {
      link.hidden = !(featureOf(link.dataset.page) in features);
    }
  } catch (err) {
    showError("global-error", err);
  }
}

async function signIn(event) {
  event.preventDefault();
  const key = $("gate-key").value.trim();
  if (!key.startsWith("cvk_")) { showError("gate-error", new Error("An API key starts with cvk_.")); return; }
  setKey(key);
  if (await checkSession()) {
    $("gate-form").reset();
    route();
  }
}

async function main() {
  takeKeyFromUrl();
  initPeople();
  initCheck();
  initLive();
  initArchive();
  initStyle();
  initViz();
  $("gate-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => { clearKey(); showGate(null); });
  onUnauthorized((err) => showGate(err.message));
  window.addEventListener("hashchange", async () => {
    if (takeKeyFromUrl()) {
      if (await checkSession()) route();
      return;
    }
    route();
  });
  await loadFeatures();
  if (!getKey()) { showGate(null); return; }
  if (await checkSession()) route();
}

main();
