// The "archive" page: the people found in a photo archive (groups of faces, largest first, a page at a
// time), a name box per group (naming also enrolls the person for recognition), and a named person's
// photos with the box of each of their faces drawn over it.
import { api, blobUrl } from "./api.js";
import { $, el, showError } from "./ui.js";

const PAGE = 48; // groups per page ("Show more groups" adds the next page)
const PHOTO_PAGE = 24;
const CROP_SIZE = 128; // pixels asked for; shown at 64 CSS pixels, sharp on high-density screens
const PHOTO_SIDE = 800;
const LOADERS = 4; // images fetched at once

let offset = 0; // groups shown so far
let person = null; // the named person whose photos are open, with their paging
let photoOffset = 0;
let generation = 0; // bumped on every reset: late answers for an old list are dropped
let totals = null; // of the whole index, as last listed
let opener = null; // the button that opened the person's photos (focus returns to it)
const urls = new Set(); // object URLs of the images shown, revoked on reset

// ---- images, fetched with the API key, a few at a time --------------------------------------------
const urgent = []; // a person's photos, asked for by a click: before the crops still waiting
const queue = [];
let running = 0;

function loadInto(img, path, { first = false } = {}) {
  (first ? urgent : queue).push({ img, path, ticket: generation });
  pump();
}

function pump() {
  while (running < LOADERS && (urgent.length || queue.length)) {
    const { img, path, ticket } = urgent.length ? urgent.shift() : queue.shift();
    if (ticket !== generation) continue;
    running += 1;
    blobUrl(path, { cache: "default" })
      .then((url) => {
        if (ticket !== generation) { URL.revokeObjectURL(url); return; }
        urls.add(url);
        img.src = url;
      })
      .catch((err) => {
        img.classList.add("missing");
        img.title = err.message;
        img.alt = `${img.alt} (not available: ${err.message})`;
      })
      .finally(() => { running -= 1; pump(); });
  }
}

function forgetImages() {
  generation += 1;
  queue.length = 0;
  urgent.length = 0;
  for (const url of urls) URL.revokeObjectURL(url);
  urls.clear();
}

// ---- the groups -------------------------------------------------------------------------------------
const plural = (n, one, many = `${one}s`) => `${n.toLocaleString("en")} ${n === 1 ? one : many}`;

function showTotals() {
  const parts = [
    plural(totals.photos, "photo"),
    plural(totals.faces, "face"),
    `${plural(totals.groups, "group")} of faces (${totals.named.toLocaleString("en")} named)`,
  ];
  let text = parts.join(" · ") + ".";
  if (totals.ungrouped) {
    text += ` ${plural(totals.ungrouped, "face")} not grouped yet: run “convapps face cluster” on the machine running the service.`;
  }
  $("archive-totals").textContent = text;
}

function showMissing(missing) {
  $("archive-missing").hidden = !missing;
  $("archive-browse").hidden = missing;
}

function emptyText(data) {
  if (data.totals.faces === 0) return "The archive index holds no faces yet. Index a folder of photos with “convapps face index FOLDER”.";
  if (data.totals.groups === 0) {
    return "The faces are indexed but not grouped into people yet. Run “convapps face cluster” on the machine running the service, then press Refresh.";
  }
  return "Every group has a single face. Tick “Show faces seen only once” to see them.";
}

export async function loadGroups(reset = true) {
  if (reset) {
    forgetImages();
    offset = 0;
    $("archive-groups").replaceChildren();
  }
  showError("archive-error", null);
  const minSize = $("archive-singles").checked ? 1 : 2;
  const params = new URLSearchParams({ offset: String(offset), limit: String(PAGE), min_size: String(minSize) });
  const ticket = generation;
  let data;
  try {
    data = await api(`/api/archive/groups?${params}`);
  } catch (err) {
    if (err.type === "ArchiveIndexMissingError") { showMissing(true); return; }
    showMissing(false);
    showError("archive-error", err);
    return;
  }
  if (ticket !== generation) return;
  showMissing(false);
  totals = data.totals;
  showTotals();
  const list = $("archive-groups");
  list.append(...data.groups.map(groupCard));
  offset += data.groups.length;
  $("archive-empty").hidden = data.total > 0;
  $("archive-empty").textContent = data.total > 0 ? "" : emptyText(data);
  $("archive-more").hidden = offset >= data.total;
  $("archive-shown").textContent = data.total ? `Showing ${offset.toLocaleString("en")} of ${plural(data.total, "group")}, largest first.` : "";
}

function groupCard(group) {
  const who = group.name || `unnamed group ${group.id}`;
  const crops = el("div", { class: "crops" });
  group.sample.forEach((faceId, i) => {
    const img = el("img", {
      class: "crop", width: "64", height: "64", "data-face": faceId,
      alt: `${who}, face ${i + 1} of ${group.size}`,
    });
    crops.append(img);
    loadInto(img, `/api/archive/faces/${faceId}/crop?size=${CROP_SIZE}`);
  });
  const card = el("li", { class: "group-card", "data-group": group.id });
  card.append(crops, el("div", { class: "group-info" }));
  fillInfo(card, group);
  return card;
}

function fillInfo(card, group, notice = null) {
  const info = card.querySelector(".group-info");
  info.replaceChildren();
  const size = el("p", { class: "group-size" }, plural(group.size, "face"));
  const status = el("p", { class: "group-status", role: "status", "aria-live": "polite" });
  if (group.name) {
    card.classList.add("named");
    const open = el("button", {
      type: "button", class: "link person-link", onclick: () => openPerson(group.name, open),
      "aria-label": `See the photos of ${group.name}`,
    }, group.name);
    info.append(el("h2", { class: "group-name" }, open), size, status);
  } else {
    const inputId = `group-name-${group.id}`;
    const input = el("input", { id: inputId, name: "name", maxlength: "200", placeholder: "Who is this?", autocomplete: "off", required: "" });
    const form = el("form", { class: "name-form", onsubmit: (event) => saveName(event, card, group, input, status) },
      el("label", { for: inputId, class: "visually-hidden" }, `Name for group ${group.id} (${plural(group.size, "face")})`),
      input,
      el("button", { type: "submit" }, "Save name"));
    info.append(el("p", { class: "group-name unnamed" }, "Unnamed"), size, form, status);
  }
  if (notice) {
    status.textContent = notice;
    status.className = "group-status ok";
  }
}

async function saveName(event, card, group, input, status) {
  event.preventDefault();
  const name = input.value.trim();
  status.className = "group-status";
  if (!name) { status.textContent = "Type the person's name first."; status.classList.add("error"); return; }
  const button = card.querySelector(".name-form button");
  button.disabled = true;
  status.textContent = "Saving…";
  try {
    const done = await api(`/api/archive/groups/${group.id}/name`, { method: "POST", json: { name } });
    fillInfo(card, done.group, done.message);
    card.querySelectorAll("img.crop").forEach((img, i) => { img.alt = `${done.group.name}, face ${i + 1} of ${done.group.size}`; });
    card.querySelector(".person-link").focus();
    if (totals) { totals.named += 1; showTotals(); }
  } catch (err) {
    status.textContent = err.message;
    status.classList.add("error");
    button.disabled = false;
    input.focus();
  }
}

// ---- one person's photos ------------------------------------------------------------------------------
async function openPerson(name, button = null) {
  person = name;
  opener = button;
  photoOffset = 0;
  $("archive-photos").replaceChildren();
  $("archive-person-title").textContent = `Photos of ${name}`;
  $("archive-person-count").textContent = "";
  $("archive-browse").hidden = true;
  $("archive-person").hidden = false;
  $("archive-person-title").focus();
  await loadPhotos();
}

async function loadPhotos() {
  showError("archive-person-error", null);
  const wanted = person;
  const params = new URLSearchParams({ offset: String(photoOffset), limit: String(PHOTO_PAGE) });
  let data;
  try {
    data = await api(`/api/archive/people/${encodeURIComponent(wanted)}/photos?${params}`);
  } catch (err) {
    showError("archive-person-error", err);
    return;
  }
  if (wanted !== person) return;
  const list = $("archive-photos");
  data.photos.forEach((photo, i) => list.append(photoItem(photo, photoOffset + i + 1, data)));
  photoOffset += data.photos.length;
  $("archive-person-count").textContent =
    `${data.name} appears in ${plural(data.total, "photo")}${photoOffset < data.total ? ` (showing ${photoOffset})` : ""}.`;
  $("archive-photos-more").hidden = photoOffset >= data.total;
}

const fileName = (path) => path.split(/[\\/]/).pop();

function photoItem(photo, number, data) {
  const caption = el("figcaption", { title: photo.photo }, fileName(photo.photo));
  if (photo.problem) {
    return el("li", { class: "archive-photo gone" },
      el("figure", {}, el("p", { class: "problem" }, photo.problem), caption));
  }
  const img = el("img", {
    alt: `Photo ${number} of ${data.total} with ${data.name} (${plural(photo.boxes.length, "face")} outlined): ${fileName(photo.photo)}`,
  });
  const frame = el("div", { class: "photo-frame" }, img);
  frame.style.aspectRatio = `${photo.width} / ${photo.height}`; // boxes are in place before the image arrives
  for (const box of photo.boxes) frame.append(faceBox(box, photo.width, photo.height));
  loadInto(img, `/api/archive/photos/${photo.face}/image?max_side=${PHOTO_SIDE}`, { first: true });
  return el("li", { class: "archive-photo" }, el("figure", {}, frame, caption));
}

/** A box over the photo, placed in percent of its size (so it follows the image at any width). */
function faceBox(box, width, height) {
  const clamp = (v) => Math.min(100, Math.max(0, v));
  const left = clamp((box.left / width) * 100);
  const top = clamp((box.top / height) * 100);
  const div = el("div", { class: "face-box", "aria-hidden": "true" });
  div.style.left = `${left}%`;
  div.style.top = `${top}%`;
  div.style.width = `${clamp((box.right / width) * 100) - left}%`;
  div.style.height = `${clamp((box.bottom / height) * 100) - top}%`;
  return div;
}

function closePerson() {
  person = null;
  opener = null;
  $("archive-person").hidden = true;
  $("archive-browse").hidden = false;
  $("archive-photos").replaceChildren();
}

export function initArchive() {
  $("archive-refresh").addEventListener("click", () => { closePerson(); loadGroups(true); });
  $("archive-more").addEventListener("click", () => loadGroups(false));
  $("archive-singles").addEventListener("change", () => loadGroups(true));
  $("archive-person-close").addEventListener("click", () => {
    const back = opener;
    closePerson();
    if (back && back.isConnected) back.focus();
  });
  $("archive-photos-more").addEventListener("click", loadPhotos);
}

export async function showArchive() {
  closePerson();
  await loadGroups(true);
}
