"""What the benchmark scripts share: a drawn test digit, servers on free ports, and figures printed alike.

Not run by itself. The scripts (`python benchmarks/<name>.py --help`) import it; it puts
the repository root on `sys.path` so they find `mnist_demo` and `app.py` without an install.
"""

import os
import platform
import shlex
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SKETCH_SIDE = 800


def draw_sketch(side: int = SKETCH_SIDE):
    """A '2' drawn as the Sketchpad sends it: black anti-aliased strokes on a transparent RGBA canvas.

    Drawn at 4x and box-reduced, as a browser canvas anti-aliases its strokes; the pen is
    about 1/14 of the canvas, the app's brush relative to its canvas.
    """
    from PIL import Image, ImageDraw

    scale, pen = 4, side // 14
    big = Image.new("RGBA", (side * scale, side * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(big)
    at = lambda x, y: (round(x * side * scale), round(y * side * scale))  # noqa: E731
    ink = dict(fill=(0, 0, 0, 255), width=pen * scale)
    x0, y0, x1, y1 = (*at(0.33, 0.18), *at(0.67, 0.52))
    draw.arc((x0, y0, x1, y1), start=190, end=40, **ink)  # the top curve of the 2
    draw.line([at(0.64, 0.42), at(0.31, 0.80), at(0.70, 0.79)], joint="curve", **ink)  # the diagonal and the base
    return big.reduce(scale)


def save_sketch(path: Path, side: int = SKETCH_SIDE) -> Path:
    draw_sketch(side).save(path, format="PNG")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_page(url: str, timeout: float, process: subprocess.Popen | None = None, poll: float = 0.02) -> float:
    """Seconds (perf_counter) at which GET `url` first answered 200; RuntimeError on timeout or if `process` dies."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    response.read()
                    return time.perf_counter()
        except OSError:
            pass
        time.sleep(poll)
    raise RuntimeError(f"{url} was not served within {timeout:.0f} s")


def start_server(args: list[str], port: int, env: dict | None = None) -> subprocess.Popen:
    """A Python server subprocess (its output discarded) listening on 127.0.0.1:`port`."""
    environment = (
        os.environ
        | {
            "GRADIO_SERVER_NAME": "127.0.0.1",
            "GRADIO_SERVER_PORT": str(port),
            "GRADIO_ANALYTICS_ENABLED": "False",
            "PYTHONPATH": str(ROOT),
        }
        | (env or {})
    )
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def app_and_bare_app(weights: str | None = None) -> dict[str, list[str]]:
    """The two servers compared side by side: {name: the arguments after `python`}."""
    return {
        "app.py": ["app.py"] + (["--weights", weights] if weights else []),
        "bare Gradio app": ["benchmarks/bare_app.py"],
    }


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def time_calls(function, repeats: int, warmup: int = 10) -> list[float]:
    """Milliseconds per call of `function()`, after `warmup` untimed calls."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


AVX2_KERNELS = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}  # torch's kernels for AVX2-only CPUs


def machine() -> str:
    """The CPU, the kernels torch runs on it (AVX2, AVX512, ...; ATEN_CPU_CAPABILITY can lower them), the load."""
    import torch

    cores = os.cpu_count()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    capability = torch.backends.cpu.get_cpu_capability()  # the kernels torch runs: AVX512 here, AVX2 on many CPUs
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (
        f"{platform.processor() or platform.machine()}, {cores} CPU cores ({capability}, load {load}), {gpu}, "
        f"torch {torch.__version__}"
    )


def cpu_busy(seconds: float = 1.0) -> float:
    """The share of all cores busy over the next `seconds` (Linux; 0.0 elsewhere). Call it before measuring."""

    def idle_and_total():
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, everything

    try:
        idle0, total0 = idle_and_total()
        time.sleep(seconds)
        idle1, total1 = idle_and_total()
    except OSError:
        return 0.0
    return 1 - (idle1 - idle0) / max(total1 - total0, 1)


def busy_note(busy: float | None = None) -> str:
    """A warning when other processes used the CPU (`busy` from cpu_busy() before the run, else the load average)."""
    if busy is None:
        load = os.getloadavg()[0]
        if load <= 0.5:
            return ""
        return f"  (warning: load average {load:.1f} on {os.cpu_count()} cores: timings are inflated)"
    return f"  (warning: the CPU was {busy:.0%} busy before the run: timings are inflated)" if busy > 0.15 else ""


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


def verdict(figure: str, value: float, goal: float) -> int:
    """Print whether `value` (at most `goal`) meets the goal and how to reproduce the run; the exit code."""
    met = value <= goal
    print(f"\ngoal {figure} <= {goal:g}: {'met' if met else 'NOT met'}")
    print_reproduce()
    return 0 if met else 1


def print_reproduce(argv: list[str] | None = None) -> None:
    path = Path(sys.argv[0]).resolve()
    script = path.relative_to(ROOT) if path.is_relative_to(ROOT) else sys.argv[0]
    args = sys.argv[1:] if argv is None else argv
    print(f"\nreproduce: python {script} {' '.join(shlex.quote(a) for a in args)}".rstrip())
