"""Check that the fast recipe trains on a GPU as it does on the CPU (run it where a GPU is present).

    python -m tools.check_gpu [--device cuda] [--steps 100]

Trains the five-minute recipe's model from the same initial weights and seed on the CPU and on the GPU
(CUDA, or Apple's MPS), and reports the mean loss of each block of steps on both, their time per step, and
whether the losses agree (a GPU computes in another order, so the runs drift apart slowly: the mean losses of
the first blocks should agree to a few percent). Exits 0 with a message where no GPU is present.
"""

import argparse
import sys
import time

import torch

from unet_lessons.data import load_fashion_mnist, to_model_images
from unet_lessons.recipe import Trainer
from unet_lessons.training import NoiseSchedule
from unet_lessons.unet import UNet

sys.path.insert(0, "benchmarks")
from time_to_quality import CANDIDATES, FIVE_MINUTES, MODELS  # noqa: E402  (the recipes live with their measurements)

BLOCK = 25


def run(device: str, steps: int) -> tuple[list[float], float]:
    _, model_name, recipe, total, _ = CANDIDATES[FIVE_MINUTES]
    config = MODELS[model_name]
    pixels, labels = load_fashion_mnist("train")
    torch.manual_seed(0)
    trainer = Trainer(UNet(config), to_model_images(pixels, size=config.image_size), labels, NoiseSchedule.linear(),
                      recipe, total_steps=total, device=device)
    trainer.run(3)  # warm-up: kernels chosen and compiled
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    trainer.run(steps - 3)
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return [sum(trainer.losses[i:i + BLOCK]) / BLOCK for i in range(0, steps - BLOCK + 1, BLOCK)], seconds / (steps - 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else None
    parser.add_argument("--device", default=default, help="cuda or mps (default: whichever is present)")
    parser.add_argument("--steps", type=int, default=100)
    arguments = parser.parse_args()
    if arguments.device is None:
        print("no GPU here (neither CUDA nor MPS): nothing to check")
        return
    cpu, cpu_step = run("cpu", arguments.steps)
    gpu, gpu_step = run(arguments.device, arguments.steps)
    print(f"{'steps':>10} {'cpu loss':>10} {arguments.device + ' loss':>10}")
    for i, (a, b) in enumerate(zip(cpu, gpu)):
        print(f"{i * BLOCK + 1:>4}-{(i + 1) * BLOCK:<5} {a:10.4f} {b:10.4f}")
    print(f"time per step: cpu {1000 * cpu_step:.0f} ms, {arguments.device} {1000 * gpu_step:.0f} ms")
    worst = max(abs(a - b) / a for a, b in zip(cpu[:2], gpu[:2]))
    print(f"first blocks agree within {worst:.1%}: {'ok' if worst < 0.05 else 'FAILED'}")
    sys.exit(0 if worst < 0.05 else 1)


if __name__ == "__main__":
    main()
