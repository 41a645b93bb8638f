"""The Draw tab's drawing pad: a Gradio custom HTML component whose value is the strokes, not a picture.

Gradio's Sketchpad reports only when the pen lifts, and then reads its canvas back, encodes PNGs and
uploads them before the event can start (about 0.9 s in Chromium here: benchmarks/stroke_latency.py).
This pad owns a plain <canvas> (its JavaScript is drawing_pad.js, beside this file: no CDN, the demo
runs offline) and sends its strokes as JSON, a few KB: every SEND_MS while the pen moves, and at once
when it lifts, on undo and on clear. `mnist_demo.strokes` checks them and draws them into the picture
the Sketchpad sent, so the reading is the same.
"""

from pathlib import Path

import gradio as gr

from .strokes import BRUSH_RADIUS, CANVAS_SIDE, MAX_POINTS, MAX_STROKES

SEND_MS = 90  # while drawing, the strokes so far at most this often: ~11 answers a second, no backlog
SCRIPT = Path(__file__).with_name("drawing_pad.js")
EMPTY = {"width": CANVAS_SIDE, "height": CANVAS_SIDE, "strokes": [], "drawing": False, "sent": 0}

TEMPLATE = """
<div class="pad-label">${label}</div>
<canvas class="pad-canvas" role="img" aria-label="Drawing canvas: draw with the mouse, a pen or a finger"></canvas>
<div class="pad-tools">
  <button type="button" class="pad-undo" aria-label="Undo" title="Undo the last stroke" disabled>↶ Undo</button>
  <button type="button" class="pad-clear" aria-label="Clear canvas" title="Clear canvas">✕ Clear</button>
</div>
"""
# The paper stays white in dark mode too: black ink on it is what the model reads, and it shows.
STYLE = """
.pad-label { font-size: var(--block-label-text-size); color: var(--block-label-text-color); margin-bottom: 6px; }
.pad-canvas { display: block; width: 100%; max-width: ${side}px; aspect-ratio: 1 / 1; margin: 0 auto;
  background: #fff; border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg);
  touch-action: none; cursor: crosshair; }
.pad-tools { display: flex; gap: 8px; justify-content: center; margin-top: 8px; }
.pad-tools button { padding: 4px 14px; border-radius: var(--radius-md); border: 1px solid var(--border-color-primary);
  background: var(--button-secondary-background-fill); color: var(--button-secondary-text-color); cursor: pointer; }
.pad-tools button:disabled { opacity: 0.5; cursor: default; }
.pad-tools button:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 2px; }
"""


def drawing_pad(label: str, elem_id: str) -> gr.HTML:
    """The pad, empty; its change event fires with each new strokes value (see the module's docstring)."""
    return gr.HTML(
        dict(EMPTY),
        label=label,
        html_template=TEMPLATE,
        css_template=STYLE,
        js_on_load=SCRIPT.read_text(),
        elem_id=elem_id,
        padding=True,
        side=CANVAS_SIDE,
        radius=BRUSH_RADIUS,
        send_ms=SEND_MS,
        max_points=MAX_POINTS,
        max_strokes=MAX_STROKES,
    )
