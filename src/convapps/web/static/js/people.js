// The "people" page: enroll from an upload or the webcam (choosing a face when the photo shows several;
// warnings such as a look-alike shown after), list, rename, remove.
import { api } from "./api.js";
import { $, busy, el, firstFile, previewFile, showError, showNotice } from "./ui.js";

let captured = null; // a webcam snapshot (File) waiting to be enrolled
let stream = null;

export async function loadPeople() {
  showError("people-error", null);
  try {
    const data = await api("/api/people");
    renderPeople(data.people);
    return data.people;
  } catch (err) {
    showError("people-error", err);
    return [];
  }
}

function renderPeople(people) {
  const list = $("people-list");
  list.replaceChildren();
  $("people-count").textContent = people.length ? `(${people.length})` : "";
  $("people-empty").hidden = people.length > 0;
  for (const person of people) {
    const initials = person.name.split(/\s+/).map((w) => w[0] || "").join("").slice(0, 2).toUpperCase();
    const meta = `${person.n_encodings} encoding${person.n_encodings === 1 ? "" : "s"}` +
      (person.created_at ? ` · enrolled ${person.created_at.slice(0, 10)}` : "");
    const item = el("li", { "data-id": person.id },
      el("span", { class: "avatar", "aria-hidden": "true" }, initials),
      el("span", { class: "name" }, person.name, el("br"), el("span", { class: "meta" }, meta)),
      el("button", { type: "button", onclick: () => rename(person) }, "Rename"),
      el("button", { type: "button", class: "danger", onclick: () => remove(person) }, "Remove"));
    list.append(item);
  }
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
}

export const showPeople = loadPeople;
export const leavePeople = stopWebcam;
