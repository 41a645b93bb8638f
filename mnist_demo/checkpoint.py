"""A training run's checkpoint: saved after every epoch, loaded by `train.py --resume`, no pickle.

    save_checkpoint(run, out)        # out/training_state.safetensors (+ a readable training_state.json)
    check_resumable(out, recipe)     # CheckpointError naming the flags that differ, or nothing
    load_checkpoint(run, out)        # the model, optimizer, schedule, random state and history

Tensors go to safetensors; the progress and settings travel as JSON inside the same file's
metadata, so one atomic rename covers the whole checkpoint.
"""

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from .artifacts import atomic_write, atomic_write_text

CHECKPOINT_FILE = "training_state.safetensors"
CHECKPOINT_INFO = "training_state.json"
RECIPE_FLAGS = (
    "arch",
    "epochs",
    "batch_size",
    "lr",
    "negatives",
    "scans",
    "augment",
    "beta2",
    "weight_decay",
    "seed",
    "limit",
)


class CheckpointError(Exception):
    """No checkpoint, an unreadable one, or one made with another recipe; the message says which."""


def save_checkpoint(run, out: Path) -> None:
    """Everything `run` needs to go on exactly where it is: weights, best weights, optimizer, schedule, RNGs."""
    tensors = {f"model.{k}": v for k, v in run.model.state_dict().items()}
    tensors |= {f"best.{k}": v for k, v in (run.best_state or {}).items()}
    optimizer_state = run.optimizer.state_dict()
    for param_id, state in optimizer_state["state"].items():
        tensors |= {f"optimizer.{param_id}.{k}": torch.as_tensor(v) for k, v in state.items()}
    tensors["rng.shuffle"] = run.shuffle.get_state()
    tensors["rng.torch"] = torch.get_rng_state()
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    info = json.dumps(
        {
            "args": run.recipe.as_dict(),
            "history": run.history,
            "best_val_acc": run.best_val_acc,
            "seconds": run.seconds,
            "optimizer_param_groups": optimizer_state["param_groups"],
            "scheduler": run.scheduler.state_dict(),
        },
        default=str,
    )
    # The info travels inside the tensors file: an interruption cannot pair mismatched halves.
    atomic_write(Path(out) / CHECKPOINT_FILE, lambda tmp: save_file(tensors, str(tmp), metadata={"info": info}))
    atomic_write_text(Path(out) / CHECKPOINT_INFO, info)  # a readable copy of the progress


def read_checkpoint_info(out: Path) -> dict:
    """The run's progress and settings from its checkpoint; CheckpointError when there is none usable."""
    path = Path(out) / CHECKPOINT_FILE
    if not path.is_file():
        raise CheckpointError(f"Cannot resume: there is no checkpoint ({CHECKPOINT_FILE}) in {out}.")
    try:
        with safe_open(str(path), framework="pt") as file:
            return json.loads(file.metadata()["info"])
    except Exception as error:
        raise CheckpointError(f"Cannot resume: the checkpoint in {out} cannot be read ({error}).") from None


def check_resumable(out: Path, recipe) -> None:
    """Resuming only makes sense with the recipe the checkpoint was made with: say which flags differ."""
    saved = read_checkpoint_info(out)["args"]
    current = recipe.as_dict()
    different = [
        f"--{flag(name)} {saved[name]}" if saved[name] is not None else f"no --{flag(name)}"
        for name in RECIPE_FLAGS
        if name in saved and saved[name] != current[name]
    ]
    if different:
        raise CheckpointError(
            f"Cannot resume: the checkpoint in {out} was made with {', '.join(different)}; "
            "pass the same flags, or train afresh into another --out."
        )


def flag(name: str) -> str:
    return name.replace("_", "-")


def load_checkpoint(run, out: Path) -> None:
    """Put `run` back where the checkpoint in `out` left it."""
    info = read_checkpoint_info(out)
    tensors = load_file(str(Path(out) / CHECKPOINT_FILE), device=str(run.device))
    run.model.load_state_dict(strip_prefix(tensors, "model."))
    run.best_state = strip_prefix(tensors, "best.") or None
    state = {}
    for key, value in strip_prefix(tensors, "optimizer.").items():
        param_id, name = key.split(".", 1)
        state.setdefault(int(param_id), {})[name] = value.cpu() if name == "step" else value
    run.optimizer.load_state_dict({"state": state, "param_groups": info["optimizer_param_groups"]})
    scheduler = {k: v for k, v in info["scheduler"].items() if k != "_anneal_func_type" or isinstance(v, str)}
    run.scheduler.load_state_dict(scheduler)
    run.shuffle.set_state(tensors["rng.shuffle"].cpu())
    torch.set_rng_state(tensors["rng.torch"].cpu())
    run.history, run.best_val_acc, run.seconds = info["history"], info["best_val_acc"], info["seconds"]


def strip_prefix(tensors: dict, prefix: str) -> dict:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
