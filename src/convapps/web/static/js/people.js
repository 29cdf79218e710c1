// The "people" page: enroll from an upload or the webcam (choosing a face when the photo shows several;
// warnings such as a look-alike shown after), list (search, a page at a time), rename, remove.
import { api } from "./api.js";
import { $, busy, el, firstFile, initials, previewFile, showError, showNotice } from "./ui.js";

let captured = null; // a webcam snapshot (File) waiting to be enrolled
let stream = null;
const PAGE = 50; // people per page
let query = ""; // the search box, as last sent
let offset = 0;
let searchTimer = null;

export async function loadPeople() {
  showError("people-error", null);
  const params = new URLSearchParams({ q: query, offset: String(offset), limit: String(PAGE) });
  try {
    const data = await api(`/api/people?${params}`);
    if (!data.people.length && data.total && offset > 0) { // the last page emptied (e.g. after a removal)
      offset = Math.max(0, Math.floor((data.total - 1) / PAGE) * PAGE);
      return loadPeople();
    }
    renderPeople(data);
    return data.people;
  } catch (err) {
    showError("people-error", err);
    return [];
  }
}

function renderPeople({ people, total }) {
  const list = $("people-list");
  list.replaceChildren();
  $("people-count").textContent = total ? `(${total})` : "";
  const empty = $("people-empty");
  empty.hidden = total > 0;
  empty.textContent = query
    ? `Nobody enrolled matches “${query}”.`
    : "Nobody is enrolled yet. Enroll someone with one photo.";
  $("people-paging").hidden = total <= PAGE;
  $("people-range").textContent = people.length ? `${offset + 1}–${offset + people.length} of ${total}` : "";
  $("people-prev").disabled = offset === 0;
  $("people-next").disabled = offset + people.length >= total;
  for (const person of people) {
    const meta = `${person.n_encodings} encoding${person.n_encodings === 1 ? "" : "s"}` +
      (person.created_at ? ` · enrolled ${person.created_at.slice(0, 10)}` : "");
    const item = el("li", { "data-id": person.id },
      el("span", { class: "avatar", "aria-hidden": "true" }, initials(person.name)),
      el("span", { class: "name" }, person.name, el("br"), el("span", { class: "meta" }, meta)),
      el("span", { class: "actions" },
        el("button", { type: "button", onclick: () => rename(person) }, "Rename"),
        el("button", { type: "button", class: "danger", onclick: () => remove(person) }, "Remove")));
    list.append(item);
  }
}

function search() {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    const text = $("people-search").value.trim();
    if (text === query) return;
    query = text;
    offset = 0;
    loadPeople();
  }, 250);
}

function turnPage(direction) {
  offset = Math.max(0, offset + direction * PAGE);
  loadPeople();
}

async function rename(person) {
  const name = prompt(`New name for ${person.name}:`, person.name);
  if (!name || name.trim() === person.name) return;
  try {
    await api(`/api/people/${person.id}`, { method: "PATCH", json: { name: name.trim() } });
    showNotice("enroll-ok", `Renamed ${person.name} to ${name.trim()}.`);
  } catch (err) {
    showError("people-error", err);
  }
  await loadPeople();
}

async function remove(person) {
  if (!confirm(`Remove ${person.name} and their face encodings? This cannot be undone.`)) return;
  try {
    await api(`/api/people/${person.id}`, { method: "DELETE" });
    showNotice("enroll-ok", `Removed ${person.name}.`);
  } catch (err) {
    showError("people-error", err);
  }
  await loadPeople();
}

async function startWebcam() {
  showError("enroll-error", null);
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    showError("enroll-error", "This browser offers no camera here (open the service as http://127.0.0.1 or localhost).");
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } } });
  } catch (err) {
    showError("enroll-error", `Camera unavailable: ${err.message || err.name}`);
    return;
  }
  $("webcam-video").srcObject = stream;
  $("webcam").hidden = false;
}

function stopWebcam() {
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null;
  $("webcam").hidden = true;
}

function snap() {
  const video = $("webcam-video");
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  canvas.toBlob((blob) => {
    captured = new File([blob], "webcam.jpg", { type: "image/jpeg" });
    resetFaceChoice();
    $("enroll-file").value = "";
    previewFile(captured, $("enroll-preview"));
    stopWebcam();
  }, "image/jpeg", 0.92);
}

function showWarnings(person) {
  const box = $("enroll-warnings");
  box.replaceChildren();
  box.hidden = !person.warnings.length;
  if (box.hidden) return;
  box.append(`Please check ${person.name}:`, el("ul", {}, ...person.warnings.map((w) => el("li", {}, w))));
}

// A new photo: forget any face chosen for the previous one.
function resetFaceChoice() {
  $("enroll-face-choice").hidden = true;
  $("enroll-face").value = "0";
}

async function enroll(event) {
  event.preventDefault();
  showNotice("enroll-ok", null);
  showWarnings({ name: "", warnings: [] });
  const photo = firstFile($("enroll-file")) || captured;
  const name = $("enroll-name").value.trim();
  if (!photo) { showError("enroll-error", "Choose a photo or take one with the webcam."); return; }
  const form = new FormData();
  form.append("name", name);
  form.append("photo", photo);
  if (!$("enroll-face-choice").hidden) form.append("face", $("enroll-face").value || "0");
  await busy($("enroll-submit"), "Enrolling…", "enroll-error", async () => {
    let person;
    try {
      person = await api("/api/people", { method: "POST", form });
    } catch (err) {
      if (err.type !== "SeveralFacesError") throw err;
      $("enroll-face-choice").hidden = false;
      $("enroll-face").focus();
      throw new Error(`${err.message.replace(/; send the field face=N$/, "")}. Choose the face below, then Enroll again.`);
    }
    showNotice("enroll-ok", `Enrolled ${person.name}.`);
    showWarnings(person);
    $("enroll-form").reset();
    resetFaceChoice();
    captured = null;
    previewFile(null, $("enroll-preview"));
    await loadPeople();
  });
}

export function initPeople() {
  $("enroll-form").addEventListener("submit", enroll);
  $("enroll-file").addEventListener("change", () => {
    captured = null;
    resetFaceChoice();
    previewFile(firstFile($("enroll-file")), $("enroll-preview"));
  });
  $("webcam-start").addEventListener("click", startWebcam);
  $("webcam-stop").addEventListener("click", stopWebcam);
  $("webcam-snap").addEventListener("click", snap);
  $("people-refresh").addEventListener("click", loadPeople);
  $("people-search").addEventListener("input", search);
  $("people-search").addEventListener("search", search);
  $("people-prev").addEventListener("click", () => turnPage(-1));
  $("people-next").addEventListener("click", () => turnPage(1));
}

export const showPeople = loadPeople;
export const leavePeople = stopWebcam;
