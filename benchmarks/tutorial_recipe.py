"""The seeds' tutorial recipe, faithfully: the baseline train.py's fast preset is timed against.

    python benchmarks/tutorial_recipe.py --data-dir ../shared/data --max-epochs 5

The two-block CNN (`TutorialCNN`: conv 32 and conv 64, BatchNorm, max-pool, dropout 0.4,
a 128-unit head), torchvision's MNIST through a DataLoader that applies ToTensor +
Normalize to every sample (batch 64, shuffled, 2 workers), Adam at lr 1e-3 with weight
decay 1e-4, and StepLR halving the rate every 5 epochs; all 60,000 training images.

After each epoch the test accuracy is measured with the clock stopped; the run ends at
the first epoch reaching --target (99.0%) or after --max-epochs. The time reported is
the training epochs only: imports, dataset set-up and the evaluations are left out, which
only favours the baseline. The last line is JSON, for benchmarks/train_speed.py.
"""

import argparse
import json
import time

import common  # noqa: F401  (puts the repository root on sys.path)

# isort: split

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from mnist_demo.data import default_data_dir
from mnist_demo.model import MNIST_MEAN, MNIST_STD, TutorialCNN


def loaders(data_dir: str) -> tuple[DataLoader, DataLoader]:
    to_input = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))])
    train = datasets.MNIST(data_dir, train=True, download=True, transform=to_input)
    test = datasets.MNIST(data_dir, train=False, download=True, transform=to_input)
    return (
        DataLoader(train, batch_size=64, shuffle=True, num_workers=2),
        DataLoader(test, batch_size=1000, shuffle=False, num_workers=2),
    )


def train_epoch(model, loader, optimizer) -> float:
    model.train()
    total = 0.0
    for images, labels in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
    return total / len(loader.dataset)


@torch.no_grad()
def test_accuracy(model, loader) -> float:
    model.eval()
    correct = sum((model(images).argmax(1) == labels).sum().item() for images, labels in loader)
    return correct / len(loader.dataset)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data-dir", default=None, help="folder holding MNIST/raw (default: $MNIST_DATA_DIR, else ~/.cache/mnist-demo)"
    )
    parser.add_argument(
        "--max-epochs", type=int, default=5, help="stop here even below the target (default: %(default)s)"
    )
    parser.add_argument("--target", type=float, default=0.99, help="test accuracy to reach (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    train_loader, test_loader = loaders(str(args.data_dir or default_data_dir()))
    model = TutorialCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
    training_seconds, history = 0.0, []
    for epoch in range(1, args.max_epochs + 1):
        started = time.perf_counter()
        loss = train_epoch(model, train_loader, optimizer)
        scheduler.step()
        seconds = time.perf_counter() - started
        training_seconds += seconds
        accuracy = test_accuracy(model, test_loader)  # the clock is stopped
        history.append({"epoch": epoch, "train_loss": loss, "test_acc": accuracy, "seconds": seconds})
        print(f"epoch {epoch}  train loss {loss:.4f}  test acc {accuracy:.2%}  {seconds:.1f} s", flush=True)
        if accuracy >= args.target:
            break
    reached = history[-1]["test_acc"] >= args.target
    print(
        json.dumps(
            {
                "reached": reached,
                "epochs": len(history),
                "seconds": training_seconds,
                "test_acc": history[-1]["test_acc"],
                "threads": torch.get_num_threads(),
                "history": history,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
