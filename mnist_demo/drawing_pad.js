// The Draw tab's pad (mnist_demo/drawing_pad.py runs this as the gr.HTML's js_on_load, with `element`,
// `props` and `trigger` from Gradio). It owns a <canvas>: pointer events (mouse, pen, touch) draw with
// a round pen, sharp at the screen's devicePixelRatio. Its value is the strokes, in the canvas's own
// CANVAS_SIDE pixels: {width, height, strokes: [[[x, y], ...], ...], drawing, sent}. Setting props.value
// fires the pad's change event: every SEND_MS while the pen moves ("drawing": true), at once when it
// lifts, on undo and on clear ("drawing": false).
const side = props.side;
const radius = props.radius;
const sendMs = props.send_ms;
const maxPoints = props.max_points;
const maxStrokes = props.max_strokes;
const canvas = element.querySelector("canvas");
const undoButton = element.querySelector("button.pad-undo");
const clearButton = element.querySelector("button.pad-clear");
const context = canvas.getContext("2d");
let strokes = [];
let current = null; // the stroke under the pen, while it is down
let timer = null;
let lastSent = 0;
let sent = 0; // how many values the pad has sent: a Clear of an empty pad is a change too (it clears an upload's answer)

function pointCount() {
  return strokes.reduce((sum, stroke) => sum + stroke.length, 0);
}

// The canvas's backing store follows its size on screen times devicePixelRatio; drawing is in `side` units.
function fitToScreen() {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
    redraw();
  }
}

function pen() {
  context.setTransform(canvas.width / side, 0, 0, canvas.height / side, 0, 0);
  context.lineCap = "round";
  context.lineJoin = "round";
  context.lineWidth = 2 * radius;
  context.strokeStyle = "#000";
  context.fillStyle = "#000";
}

function redraw() {
  context.setTransform(1, 0, 0, 1, 0, 0);
  context.fillStyle = "#fff";
  context.fillRect(0, 0, canvas.width, canvas.height);
  pen();
  for (const stroke of strokes) {
    stroke.forEach((point, k) => segment(stroke[Math.max(0, k - 1)], point));
  }
  undoButton.disabled = strokes.length === 0;
}

function segment(from, to) {
  context.beginPath();
  context.moveTo(from[0], from[1]);
  context.lineTo(to[0], to[1]);
  context.stroke();
}

// Where the pointer is on the paper (inside the canvas's border), in `side` units.
function canvasPoint(event) {
  const box = canvas.getBoundingClientRect();
  const x = ((event.clientX - box.left - canvas.clientLeft) * side) / canvas.clientWidth;
  const y = ((event.clientY - box.top - canvas.clientTop) * side) / canvas.clientHeight;
  return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
}

function send(drawing) {
  clearTimeout(timer);
  timer = null;
  lastSent = performance.now();
  sent += 1;
  props.value = { width: side, height: side, strokes: strokes.map((s) => s.slice()), drawing, sent };
}

function sendSoon() {
  if (timer === null) timer = setTimeout(() => send(true), Math.max(0, sendMs - (performance.now() - lastSent)));
}

canvas.addEventListener("pointerdown", (event) => {
  if (event.button !== 0 || current !== null || strokes.length >= maxStrokes) return;
  event.preventDefault();
  canvas.setPointerCapture(event.pointerId);
  current = [canvasPoint(event)];
  strokes.push(current);
  pen();
  segment(current[0], current[0]);
  undoButton.disabled = false;
  sendSoon();
});

canvas.addEventListener("pointermove", (event) => {
  if (current === null) return;
  const moves = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  pen();
  for (const move of moves.length ? moves : [event]) {
    const point = canvasPoint(move);
    const last = current[current.length - 1];
    if (Math.hypot(point[0] - last[0], point[1] - last[1]) < 1 || pointCount() >= maxPoints) continue;
    current.push(point);
    segment(last, point);
  }
  sendSoon();
});

function penUp() {
  if (current === null) return;
  current = null;
  send(false);
}
canvas.addEventListener("pointerup", penUp);
canvas.addEventListener("pointercancel", penUp);

undoButton.addEventListener("click", () => {
  current = null;
  strokes.pop();
  redraw();
  send(false);
});
clearButton.addEventListener("click", () => {
  current = null;
  strokes = [];
  redraw();
  send(false);
  trigger("clear"); // for what else a Clear resets (the corrections' line)
});

new ResizeObserver(fitToScreen).observe(canvas);
fitToScreen();
redraw();
canvas.dataset.ready = "true"; // the pen is listened to from now on: tests and benchmarks wait for this
