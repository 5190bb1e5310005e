// The parent's signing page: shows what the link offers, takes a drawn signature, signs or declines through
// the public contract API. No framework, no build step, nothing loaded from elsewhere.

const api = document.querySelector('meta[name="rollcall-api"]').content.replace(/\/+$/, "");
const token = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
const contractUrl = `${api}/api/v1/contracts/${encodeURIComponent(token)}`;

const $ = (id) => document.getElementById(id);
const states = ["state-loading", "state-message", "state-form", "state-done"];

let contract = null;
let busy = false;

// ---- what the page shows ----------------------------------------------------------------------------------

function show(state, focusId) {
  for (const id of states) $(id).hidden = id !== state;
  if (focusId) $(focusId).focus();
}

function message(title, text, { retry = null } = {}) {
  $("message-title").textContent = title;
  $("message-text").textContent = text;
  const button = $("message-retry");
  button.hidden = retry === null;
  button.onclick = retry;
  show("state-message", "message-title");
}

const MESSAGES = {
  unknown: [
    "This link doesn't work any more",
    "The link is unknown, or the club has sent a newer one since. Use the latest link the club emailed you, " +
      "or ask the club for a new one.",
  ],
  signed: ["This contract is already signed", "There is nothing more to do. Thank you!"],
  declined: [
    "You declined this contract",
    "The club can see that you declined. If that was a mistake, ask the club to offer it again.",
  ],
  offline: [
    "We couldn't reach the club's server",
    "Check your internet connection, then try again.",
  ],
  broken: ["Something went wrong on our side", "Please try again in a minute."],
};

function showStatus(status) {
  const [title, text] = MESSAGES[status] || MESSAGES.broken;
  message(title, text);
}

function brand(club) {
  const root = document.documentElement.style;
  if (/^#[0-9a-fA-F]{6}$/.test(club.brand_color || "")) {
    root.setProperty("--brand", club.brand_color);
    root.setProperty("--on-brand", readableOn(club.brand_color));
  }
  $("club-name").textContent = club.name;
  const logo = $("club-logo");
  if (club.logo_url && club.logo_url.startsWith("https://")) {
    logo.alt = `${club.name} logo`;
    logo.onload = () => { logo.hidden = false; };
    logo.onerror = () => { logo.hidden = true; };
    logo.src = club.logo_url;
  }
  $("club").hidden = false;
  document.title = `Sign the player contract · ${club.name}`;
}

/** Black or white, whichever contrasts more with the brand colour (WCAG relative luminance). */
function readableOn(hex) {
  const channel = (i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  return (1.05) / (luminance + 0.05) >= (luminance + 0.05) / 0.05 ? "#ffffff" : "#000000";
}

function money(cents) {
  if (cents === null || cents === undefined) return "—";
  return new Intl.NumberFormat(undefined, { style: "currency", currency: "USD" }).format(cents / 100);
}

function fill(view) {
  contract = view;
  brand(view.club);
  $("player-name").textContent = view.player_name;
  $("teams").textContent = view.teams.length ? view.teams.map((team) => team.name).join(", ") : "—";
  $("season").textContent = view.season || "—";
  $("fee").textContent = money(view.monthly_fee);
  $("version").textContent = view.contract_version;
}

// ---- talking to the API -----------------------------------------------------------------------------------

/** Seconds to wait from a Retry-After header (seconds or an HTTP date); 60 when absent or unreadable. */
function retryAfter(response) {
  const value = response.headers.get("Retry-After");
  if (value && /^\d+$/.test(value.trim())) return Math.max(1, parseInt(value, 10));
  const when = value ? Date.parse(value) : NaN;
  return Number.isNaN(when) ? 60 : Math.max(1, Math.ceil((when - Date.now()) / 1000));
}

async function problemDetail(response) {
  try {
    const body = await response.json();
    return typeof body.detail === "string" ? body.detail : body.title || "";
  } catch {
    return "";
  }
}

function waitThen(seconds, tick, done) {
  let left = seconds;
  tick(left);
  const timer = setInterval(() => {
    left -= 1;
    if (left > 0) {
      tick(left);
    } else {
      clearInterval(timer);
      done();
    }
  }, 1000);
}

async function load() {
  show("state-loading");
  if (!token) return showStatus("unknown");
  let response;
  try {
    response = await fetch(contractUrl, { headers: { Accept: "application/json" }, cache: "no-store" });
  } catch {
    return message(...MESSAGES.offline, { retry: load });
  }
  if (response.status === 404) return showStatus("unknown");
  if (response.status === 429) {
    const seconds = retryAfter(response);
    message("Too many tries from your connection", `Please wait ${seconds} seconds, then try again.`, { retry: load });
    const button = $("message-retry");
    button.disabled = true;
    return waitThen(seconds, (left) => { button.textContent = `Try again in ${left} s`; }, () => {
      button.disabled = false;
      button.textContent = "Try again";
    });
  }
  if (!response.ok) return message(...MESSAGES.broken, { retry: load });
  const view = await response.json();
  fill(view);
  if (view.status === "offered") return show("state-form", "form-title");
  showStatus(view.status === "signed" || view.status === "declined" ? view.status : "unknown");
}

function formStatus(text, { error = false } = {}) {
  const status = $("form-status");
  status.textContent = text;
  status.classList.toggle("is-error", error);
}

function setBusy(value) {
  busy = value;
  for (const id of ["sign", "decline", "decline-yes", "decline-no", "pad-clear", "pad-typed"]) $(id).disabled = value;
}

/** After a refusal or a network error the form keeps everything the parent entered, the drawing included. */
async function answer(response, onSuccess) {
  if (response.ok) return onSuccess(await response.json());
  if (response.status === 404) return showStatus("unknown");
  if (response.status === 409) return load(); // signed or declined meanwhile: show what it is now
  if (response.status === 429) {
    const seconds = retryAfter(response);
    setBusy(true);
    return waitThen(
      seconds,
      (left) => formStatus(`Too many tries from your connection. You can try again in ${left} seconds.`, { error: true }),
      () => {
        setBusy(false);
        formStatus("You can try again now.");
      },
    );
  }
  const detail = await problemDetail(response);
  if (response.status >= 500) {
    formStatus("Something went wrong on our side. Your signature is kept: please try again.", { error: true });
  } else {
    formStatus(detail ? `The club's server refused this: ${detail}` : "The club's server refused this.", { error: true });
  }
}

async function send(path, body) {
  return fetch(`${contractUrl}/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
}

async function sign(event) {
  event.preventDefault();
  if (busy || !validate()) return;
  setBusy(true);
  formStatus("Signing…");
  let response;
  try {
    response = await send("sign", {
      signed_by: $("signed-by").value.trim(),
      signature_png: pad.png(),
      contract_version: contract.contract_version,
      accept_terms: true,
    });
  } catch {
    setBusy(false);
    return formStatus("No connection to the club's server. Your signature is kept: press Sign again.", { error: true });
  }
  setBusy(false);
  await answer(response, (view) => {
    const teams = view.teams.map((team) => team.name).join(", ");
    $("done-text").textContent =
      `${view.player_name}'s contract${teams ? ` with ${teams}` : ""} (version ${view.contract_version}) ` +
      `is signed by ${$("signed-by").value.trim()}. The club will email you the next steps.`;
    show("state-done", "done-title");
  });
}

async function decline() {
  if (busy) return;
  setBusy(true);
  formStatus("Declining…");
  let response;
  try {
    response = await send("decline", {});
  } catch {
    setBusy(false);
    return formStatus("No connection to the club's server. Please try again.", { error: true });
  }
  setBusy(false);
  $("decline-confirm").hidden = true;
  await answer(response, () => showStatus("declined"));
}

// ---- validation -------------------------------------------------------------------------------------------

function fieldError(id, text) {
  const error = $(`${id}-error`);
  error.textContent = text;
  error.hidden = !text;
  const input = $(id);
  if (input && input.tagName !== "CANVAS") input.setAttribute("aria-invalid", text ? "true" : "false");
}

function validate() {
  const problems = [];
  const name = $("signed-by").value.trim();
  fieldError("signed-by", name ? "" : "Please type your full name.");
  if (!name) problems.push("signed-by");
  fieldError("pad", pad.isEmpty() ? "Please draw your signature (or use your typed name)." : "");
  if (pad.isEmpty()) problems.push("pad-clear");
  fieldError("accept", $("accept").checked ? "" : "Please accept the terms to sign.");
  if (!$("accept").checked) problems.push("accept");
  if (problems.length) {
    formStatus("Please fix the highlighted fields.", { error: true });
    $(problems[0]).focus();
    return false;
  }
  formStatus("");
  return true;
}

// ---- the signature pad ------------------------------------------------------------------------------------

/** A canvas drawn on with pointer events (mouse, pen, touch). Strokes are kept in CSS pixels so a resize or
 *  rotation redraws them; the bitmap never exceeds what the API accepts (2000 x 1000). */
class SignaturePad {
  constructor(canvas) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.strokes = [];
    this.typed = null;
    this.current = null;
    canvas.addEventListener("pointerdown", (event) => this.down(event));
    canvas.addEventListener("pointermove", (event) => this.move(event));
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
      canvas.addEventListener(type, () => { this.current = null; });
    }
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.resize();
  }

  resize() {
    const { width, height } = this.canvas.getBoundingClientRect();
    if (!width || !height) return;
    const scale = Math.min(window.devicePixelRatio || 1, 2000 / width, 1000 / height);
    this.scale = scale;
    this.canvas.width = Math.floor(width * scale);
    this.canvas.height = Math.floor(height * scale);
    this.redraw();
  }

  point(event) {
    const box = this.canvas.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  }

  down(event) {
    if (event.pointerType === "mouse" && event.button !== 0) return;
    if (busy) return;
    event.preventDefault();
    this.canvas.setPointerCapture(event.pointerId);
    this.typed = null;
    this.current = [this.point(event)];
    this.strokes.push(this.current);
    fieldError("pad", "");
    this.redraw();
  }

  move(event) {
    if (!this.current) return;
    event.preventDefault();
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const each of events.length ? events : [event]) this.current.push(this.point(each));
    this.redraw();
  }

  useTyped(name) {
    this.strokes = [];
    this.typed = name;
    fieldError("pad", "");
    this.redraw();
  }

  clear() {
    this.strokes = [];
    this.typed = null;
    this.redraw();
  }

  isEmpty() {
    return !this.typed && this.strokes.length === 0;
  }

  redraw() {
    const { context, canvas, scale } = this;
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.setTransform(scale, 0, 0, scale, 0, 0);
    context.strokeStyle = context.fillStyle = "#111827";
    context.lineWidth = 2.5;
    context.lineCap = context.lineJoin = "round";
    for (const stroke of this.strokes) {
      context.beginPath();
      context.moveTo(...stroke[0]);
      if (stroke.length === 1) context.arc(stroke[0][0], stroke[0][1], 1.5, 0, 2 * Math.PI);
      for (const point of stroke.slice(1)) context.lineTo(...point);
      context.stroke();
    }
    if (this.typed) {
      const width = canvas.width / scale;
      const height = canvas.height / scale;
      let size = Math.min(56, height * 0.45);
      const font = (px) => `italic ${px}px "Segoe Script", "Brush Script MT", cursive, serif`;
      context.font = font(size);
      while (size > 12 && context.measureText(this.typed).width > width * 0.9) {
        size -= 2;
        context.font = font(size);
      }
      context.textAlign = "center";
      context.textBaseline = "middle";
      context.fillText(this.typed, width / 2, height / 2);
    }
  }

  png() {
    return this.canvas.toDataURL("image/png");
  }
}

// ---- wiring -----------------------------------------------------------------------------------------------

const pad = new SignaturePad($("pad"));
$("pad-clear").addEventListener("click", () => pad.clear());
$("pad-typed").addEventListener("click", () => {
  const name = $("signed-by").value.trim();
  if (!name) {
    fieldError("signed-by", "Type your full name first.");
    $("signed-by").focus();
    return;
  }
  fieldError("signed-by", "");
  pad.useTyped(name);
});
$("signed-by").addEventListener("input", () => { if ($("signed-by").value.trim()) fieldError("signed-by", ""); });
$("accept").addEventListener("change", () => { if ($("accept").checked) fieldError("accept", ""); });
$("sign-form").addEventListener("submit", sign);
$("decline").addEventListener("click", () => {
  $("decline-confirm").hidden = false;
  $("decline-question").focus();
});
$("decline-no").addEventListener("click", () => {
  $("decline-confirm").hidden = true;
  $("decline").focus();
});
$("decline-yes").addEventListener("click", decline);

load();
