// The "live" page: camera frames go to /api/live over a WebSocket, one frame in flight at a time (the
// next one leaves when the reply arrived, so latency stays bounded); the faces come back with track ids
// and names and are drawn over the video. Protocol: hello {type, key} first, then binary frames of a
// 12-byte header (seq uint32, client_ms float64, big-endian) and a JPEG; replies are JSON.
import { getKey } from "./api.js";
import { fitText, labelBox } from "./check.js";
import { $, el, showError } from "./ui.js";

const HEADER_BYTES = 12;
const FRAME_SIDE = 640; // frames are sent at most this many pixels on their longer side
const JPEG_QUALITY = 0.8;
const STATUS_WINDOW_MS = 3000; // the status line's frames/s is over this window
const LATENCY_WINDOW = 50; // ... and its latency p50 over this many results
const MAX_KEPT = 10000; // latencies kept for tests and benchmarks
const COLORS = { known: "#17a34a", unknown: "#dc2626", pending: "#6b7280" };

const stats = { sent: 0, received: 0, errors: 0, latencies_ms: [], server_ms: [] };
window.convappsLive = { stats, state: "idle", last: null };

let stream = null;
let socket = null;
let running = false;
let seq = 0;
let inFlight = false; // a frame was sent (or is being encoded) and its reply has not arrived
let recent = []; // performance.now() of recent results
const capture = document.createElement("canvas");

function setState(state) {
  window.convappsLive.state = state;
  const button = $("live-toggle");
  button.disabled = state === "starting";
  button.textContent = state === "starting" ? "Starting…" : running ? "Stop camera" : "Start camera";
}

function cameraMessage(err) {
  switch (err && err.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Camera permission was denied. Allow the camera for this site in the browser, then Start camera again.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No camera was found. Connect a camera, then Start camera again.";
    case "NotReadableError":
    case "AbortError":
      return "The camera cannot be started: another program may be using it.";
    default:
      return `The camera is unavailable: ${(err && (err.message || err.name)) || "unknown error"}.`;
  }
}

function closeMessage(event) {
  const reason = event.reason ? `${event.reason}.` : "";
  switch (event.code) {
    case 1000: return null;
    case 4401: return `The service refused the API key: ${reason} Sign out and sign in with a valid key.`;
    case 4408: case 4429: case 4503: return `The service ended the session: ${reason}`;
    case 1011: return "The service failed while recognising (its log has the details). Start camera to retry.";
    default: return "The connection to the service was lost. Is `convapps serve` still running?";
  }
}

async function start() {
  showError("live-error", null);
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    showError("live-error", "This browser offers no camera here (open the service as http://127.0.0.1 or localhost).");
    return;
  }
  setState("starting");
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 360 } }, audio: false,
    });
  } catch (err) {
    setState("idle");
    showError("live-error", cameraMessage(err));
    return;
  }
  for (const track of stream.getVideoTracks()) {
    track.addEventListener("ended", () => stop("The camera was disconnected. Connect it again, then Start camera."));
  }
  const video = $("live-video");
  video.srcObject = stream;
  video.play().catch(() => { /* autoplay: the video plays once it has data */ });
  $("live-view").hidden = false;
  Object.assign(stats, { sent: 0, received: 0, errors: 0, latencies_ms: [], server_ms: [] });
  recent = [];
  seq = 0;
  inFlight = false;
  running = true;
  setState("connecting");
  connect();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/api/live`);
  socket.binaryType = "arraybuffer";
  socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "hello", key: getKey() || "" })));
  socket.addEventListener("message", (event) => {
    if (typeof event.data === "string") receive(JSON.parse(event.data));
  });
  const mine = socket;
  socket.addEventListener("close", (event) => {
    if (running && socket === mine) stop(closeMessage(event) || "The service ended the session.");
  });
}

function receive(message) {
  if (!running) return;
  if (message.type === "ready") {
    setState("running");
    sendFrame();
  } else if (message.type === "result") {
    inFlight = false;
    draw(message);
    const now = performance.now();
    stats.received += 1;
    stats.latencies_ms.push(now - message.client_ms); // frame sent -> boxes drawn
    stats.server_ms.push(message.server_ms); // of which decoding and recognising on the server
    if (stats.latencies_ms.length > MAX_KEPT) { stats.latencies_ms.shift(); stats.server_ms.shift(); }
    recent.push(now);
    window.convappsLive.last = message;
    showError("live-error", null);
    showStatus(message.faces.length);
    sendFrame();
  } else if (message.type === "error") {
    inFlight = false;
    stats.errors += 1;
    showError("live-error", `A frame was refused: ${message.error.message}`);
    sendFrame();
  }
}

function sendFrame() {
  if (!running || inFlight || !socket || socket.readyState !== WebSocket.OPEN) return;
  const video = $("live-video");
  if (video.readyState < 2 || !video.videoWidth) { setTimeout(sendFrame, 50); return; }
  inFlight = true;
  const scale = Math.min(1, FRAME_SIDE / Math.max(video.videoWidth, video.videoHeight));
  capture.width = Math.round(video.videoWidth * scale);
  capture.height = Math.round(video.videoHeight * scale);
  capture.getContext("2d").drawImage(video, 0, 0, capture.width, capture.height);
  const target = socket;
  capture.toBlob(async (blob) => {
    if (!blob) { inFlight = false; setTimeout(sendFrame, 50); return; }
    const image = new Uint8Array(await blob.arrayBuffer());
    if (!running || socket !== target || target.readyState !== WebSocket.OPEN) return; // stopped meanwhile
    const message = new Uint8Array(HEADER_BYTES + image.byteLength);
    const header = new DataView(message.buffer);
    header.setUint32(0, seq++);
    header.setFloat64(4, performance.now());
    message.set(image, HEADER_BYTES);
    target.send(message);
    stats.sent += 1;
  }, "image/jpeg", JPEG_QUALITY);
}

function kind(face) {
  if (!face.decided) return "pending";
  return face.recognized ? "known" : "unknown";
}

function draw(result) {
  const canvas = $("live-overlay");
  const { width, height } = result;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, width, height);
  const fontSize = Math.max(12, Math.round(Math.max(width, height) / 40));
  ctx.font = `600 ${fontSize}px system-ui, sans-serif`;
  ctx.lineWidth = Math.max(2, Math.round(Math.max(width, height) / 250));
  const items = [];
  for (const face of result.faces) {
    const [left, top, right, bottom] = face.box;
    const color = COLORS[kind(face)];
    const text = `#${face.track} ${face.label}`;
    ctx.strokeStyle = color;
    ctx.strokeRect(left, top, right - left, bottom - top);
    const label = fitText(ctx, text, width - 8);
    const place = labelBox({ left, top, right, bottom }, ctx.measureText(label).width + 8, fontSize + 6, width, height);
    ctx.fillStyle = color;
    ctx.fillRect(place.x, place.y, place.w, place.h);
    ctx.fillStyle = "#fff";
    ctx.fillText(label, place.x + 4, place.y + fontSize);
    items.push(el("li", { class: kind(face), "data-track": face.track }, text));
  }
  $("live-faces").replaceChildren(...items);
}

function showStatus(faces) {
  const now = performance.now();
  recent = recent.filter((t) => now - t <= STATUS_WINDOW_MS);
  const span = recent.length > 1 ? (recent[recent.length - 1] - recent[0]) / 1000 : 0;
  const fps = span > 0 ? (recent.length - 1) / span : 0;
  const last = stats.latencies_ms.slice(-LATENCY_WINDOW).sort((a, b) => a - b);
  const p50 = last.length ? last[Math.floor((last.length - 1) / 2)] : 0;
  const who = faces === 1 ? "1 face" : `${faces} faces`;
  $("live-status").textContent = `${fps.toFixed(1)} frames/s · latency p50 ${Math.round(p50)} ms · ${who}`;
}

/** Stop the camera and the session; `message` (if any) says why. */
function stop(message) {
  running = false;
  if (socket) {
    const closing = socket;
    socket = null;
    if (closing.readyState === WebSocket.OPEN) {
      closing.send(JSON.stringify({ type: "bye" }));
      closing.close(1000, "bye");
    } else if (closing.readyState === WebSocket.CONNECTING) {
      closing.close();
    }
  }
  if (stream) stream.getTracks().forEach((track) => track.stop());
  stream = null;
  $("live-video").srcObject = null;
  $("live-view").hidden = true;
  $("live-faces").replaceChildren();
  $("live-overlay").getContext("2d").clearRect(0, 0, $("live-overlay").width, $("live-overlay").height);
  $("live-status").textContent = "";
  setState(message ? "stopped" : "idle");
  showError("live-error", message || null);
}

export function initLive() {
  $("live-toggle").addEventListener("click", () => (running ? stop(null) : start()));
}

export function showLive() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    showError("live-error", "This browser offers no camera here (open the service as http://127.0.0.1 or localhost).");
  }
}

export function leaveLive() {
  if (running) stop(null);
}
