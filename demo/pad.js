// The Draw tab's pad (gr.HTML's js_on_load: `element` and `props` are given).
// Strokes are kept as points in canvas units (props.canvas_h tall, as wide as the paper's aspect allows, up
// to props.canvas_w), shown sharp at the screen's pixel ratio with one scale for x and y (the canvas is sized
// to the units' aspect inside the paper, so a circle stays a circle on any screen), and sent at each pen lift
// as one PNG of the ink (black on transparent, canvas units) to the app's pad/read (demo/serving/routes.py,
// beside Gradio's API, under the root Gradio's own client uses). Every stroke, undo and clear
// makes a new version of the drawing; an answer is shown only if the drawing is still the version it was
// asked for.
const pad = element.querySelector('.pad');
const paper = element.querySelector('.pad-paper');
const canvas = element.querySelector('.pad-canvas');
const answer = element.querySelector('.pad-answer');
const numberEl = element.querySelector('.pad-number');
const bars = element.querySelector('.pad-bars');
const seen = element.querySelector('.pad-seen');
const note = element.querySelector('.pad-note');
const why = element.querySelector('.pad-why');
const said = element.querySelector('.pad-said');
const typed = element.querySelector('.pad-typed');
const H = props.canvas_h, MAX_W = props.canvas_w, MIN_W = props.min_canvas_w, PEN = props.brush;
const PAGE = Math.random().toString(36).slice(2, 14);  // this page load: its turn among its address's pages
const CONFIG = window.gradio_config || {};
const CALLS = `${CONFIG.root || location.origin}${CONFIG.api_prefix || '/gradio_api'}/pad/`.replace(/([^:])\/\/+/g, '$1/');
let W = MAX_W, strokes = [], current = null, pointer = null, version = 0;

function refit(w) {
  // The paper got narrower (a window resized, a phone turned): the ink is kept, moved left and, if it is
  // still too wide, shrunk about its middle by one factor for x and y, so it keeps its proportions.
  const points = strokes.flat(), xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  if (!points.length || x1 <= w - PEN) return false;
  const k = Math.min(1, (w - 2 * PEN) / (x1 - x0)), cy = (Math.min(...ys) + Math.max(...ys)) / 2;
  const left = Math.min(x0, w - PEN - (x1 - x0) * k);  // moved left only as far as it must go
  for (const p of points) { p[0] = left + (p[0] - x0) * k; p[1] = cy + (p[1] - cy) * k; }
  return true;
}

function layout() {
  const box = paper.getBoundingClientRect();
  if (!box.width || !box.height) return;
  const w = Math.max(MIN_W, Math.min(MAX_W, Math.round(H * box.width / box.height)));
  const moved = w < W && refit(w);
  W = w;
  const scale = Math.min(box.width / W, box.height / H);  // CSS px per canvas unit, the same both ways
  canvas.style.width = `${W * scale}px`;
  canvas.style.height = `${H * scale}px`;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(W * scale * dpr);
  canvas.height = Math.round(H * scale * dpr);
  canvas.dataset.units = `${W}x${H}`;
  redraw();
  if (moved) read();  // the ink moved: read it again where it now is
}

function paint(ctx, list, colour) {
  ctx.lineCap = 'round'; ctx.lineJoin = 'round'; ctx.lineWidth = PEN;
  ctx.strokeStyle = colour; ctx.fillStyle = colour;
  for (const s of list) {
    if (s.length === 1) { ctx.beginPath(); ctx.arc(s[0][0], s[0][1], PEN / 2, 0, 2 * Math.PI); ctx.fill(); continue; }
    ctx.beginPath(); ctx.moveTo(s[0][0], s[0][1]);
    for (const p of s.slice(1)) ctx.lineTo(p[0], p[1]);
    ctx.stroke();
  }
}

function screen() {
  const ctx = canvas.getContext('2d');
  ctx.setTransform(canvas.width / W, 0, 0, canvas.height / H, 0, 0);
  return ctx;
}

function redraw() {
  const ctx = screen();
  ctx.clearRect(0, 0, W, H);
  paint(ctx, strokes, getComputedStyle(canvas).color);
  pad.classList.toggle('pad-inked', strokes.length > 0);
}

function drawing() {
  // Only the ink's box is sent (a few KB to decode, not the whole canvas), with where it sits.
  const points = strokes.flat(), r = PEN / 2 + 2;
  const x0 = Math.max(0, Math.floor(Math.min(...points.map((p) => p[0])) - r));
  const y0 = Math.max(0, Math.floor(Math.min(...points.map((p) => p[1])) - r));
  const x1 = Math.min(W, Math.ceil(Math.max(...points.map((p) => p[0])) + r));
  const y1 = Math.min(H, Math.ceil(Math.max(...points.map((p) => p[1])) + r));
  const off = document.createElement('canvas');
  off.width = Math.max(1, x1 - x0); off.height = Math.max(1, y1 - y0);
  const ctx = off.getContext('2d');
  ctx.translate(-x0, -y0);
  paint(ctx, strokes, '#000');
  return {png: off.toDataURL('image/png'), at: [x0, y0], canvas: [W, H], page: PAGE};
}

function at(e) {
  const box = canvas.getBoundingClientRect();
  return [(e.clientX - box.left) * W / box.width, (e.clientY - box.top) * H / box.height];
}

canvas.addEventListener('pointerdown', (e) => {
  if (pointer !== null || (e.pointerType === 'mouse' && e.button !== 0)) return;
  e.preventDefault();
  pointer = e.pointerId;
  canvas.setPointerCapture(e.pointerId);
  current = [at(e)];
  strokes.push(current);
  version += 1;  // an answer on its way is for a drawing that is no longer on the pad
  why.innerHTML = ''; said.textContent = '';
  redraw();
});

canvas.addEventListener('pointermove', (e) => {
  if (e.pointerId !== pointer) return;
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
  const from = current.length - 1;
  for (const c of events.length ? events : [e]) current.push(at(c));
  paint(screen(), [current.slice(from)], getComputedStyle(canvas).color);
});

function lift(e) {
  if (e.pointerId !== pointer) return;
  pointer = null; current = null;
  read();
}
// A stroke ends however the pen goes: lifted, cancelled by the system, or its capture lost (tab hidden,
// a system gesture); otherwise the pad would wait for a lift that never comes and refuse every stroke.
for (const name of ['pointerup', 'pointercancel', 'lostpointercapture']) canvas.addEventListener(name, lift);

function empty() {
  version += 1;
  answer.dataset.state = 'empty'; answer.dataset.version = String(version);
  numberEl.textContent = ''; bars.innerHTML = ''; seen.innerHTML = '';
  note.textContent = 'Write a digit or a number on the pad: the answer shows as soon as you lift the pen.';
  why.innerHTML = ''; said.textContent = '';
}

async function ask(name, extra) {
  const drawn = version;
  const payload = Object.assign(drawing(), extra || {});
  let r = null;
  try {
    const res = await fetch(CALLS + name, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(payload)});
    r = await res.json();
  } catch (err) { r = null; }
  // dropped: a newer request from this page took its place in the queue, and its answer will come
  return [drawn === version && !(r && r.dropped), r || {message: 'The drawing did not reach the app; check the connection and draw again.'}];
}

function show(r) {
  answer.dataset.state = r.message ? 'message' : 'read';
  answer.dataset.version = String(version);
  numberEl.textContent = r.number || '';
  bars.innerHTML = '';
  for (const [label, p] of r.top || []) {
    const row = document.createElement('div');
    row.className = 'pad-bar';
    row.innerHTML = '<span class="pad-bar-label"></span><span class="pad-track"><span></span></span><span class="pad-p"></span>';
    row.children[0].textContent = label;
    row.children[1].firstChild.style.width = `${(100 * p).toFixed(1)}%`;
    row.children[2].textContent = `${(100 * p).toFixed(1)}%`;
    bars.appendChild(row);
  }
  seen.innerHTML = r.seen || '';
  if (r.message) note.textContent = r.message; else note.innerHTML = r.note || '';
  element.dispatchEvent(new CustomEvent('pad-answer', {detail: {version, number: r.number || null}}));
}

async function read() {
  if (!strokes.length) { empty(); return; }
  answer.dataset.state = 'reading';
  const [current, r] = await ask('read');
  if (current) show(r);
}

element.querySelector('.pad-clear').addEventListener('click', () => { strokes = []; redraw(); empty(); });
function undo() { strokes.pop(); version += 1; why.innerHTML = ''; said.textContent = ''; redraw(); read(); }
element.querySelector('.pad-undo').addEventListener('click', undo);
element.querySelector('.pad-explain').addEventListener('click', async () => {
  if (!strokes.length) { why.textContent = 'Draw a digit first, then ask why.'; return; }
  why.textContent = 'Looking at each stroke...';
  const [current, r] = await ask('why');
  if (!current) return;
  if (r.html) why.innerHTML = r.html; else why.textContent = r.message;  // the server escapes all it writes
});

async function correct(value) {
  if (!strokes.length) { said.textContent = 'Draw the digits first, then say what they were.'; return; }
  said.textContent = 'Keeping it...';
  const [current, r] = await ask('correct', {answer: value});
  if (current) said.textContent = r.message;
}
element.querySelectorAll('.pad-digit').forEach((b) => b.addEventListener('click', () => correct(b.textContent)));
element.querySelector('.pad-keep').addEventListener('click', () => correct(typed.value));
typed.addEventListener('keydown', (e) => { if (e.key === 'Enter') correct(typed.value); });
element.addEventListener('keydown', (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key === 'z' && e.target !== typed) { e.preventDefault(); undo(); }
});

new ResizeObserver(layout).observe(paper);
layout();
empty();
element.dataset.ready = 'true';
