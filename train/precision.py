"""Which precision `--precision auto` trains in, decided from what the device has, with the reason.

No TensorFlow here: train.devices asks TensorFlow for the GPU and passes plain facts in, so the
decision is a pure function a test can call for devices this machine does not have.
"""

from __future__ import annotations

from pathlib import Path

BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # x86 instructions that compute bfloat16 natively


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> set[str]:
    """The CPU's feature flags (Linux); empty where /proc/cpuinfo is not there (macOS, Windows)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return set()


def choose_precision(gpu_capability: tuple[int, int] | None, flags: set[str]) -> tuple[str, str]:
    """(Keras policy, why). gpu_capability: the first GPU's CUDA compute capability, None for no GPU."""
    if gpu_capability is not None:
        if gpu_capability >= (7, 0):
            return "mixed_float16", (
                f"GPU with compute capability {gpu_capability[0]}.{gpu_capability[1]}: tensor cores run "
                "float16 several times faster, and Keras scales the loss so small gradients survive"
            )
        return "float32", (
            f"GPU with compute capability {gpu_capability[0]}.{gpu_capability[1]}: no tensor cores, so "
            "float16 would save memory but little time"
        )
    native = sorted(f for f in BF16_CPU_FLAGS if f in flags)
    if native:
        return "mixed_bfloat16", f"CPU with {' and '.join(native)}: bfloat16 is computed natively"
    return "float32", (
        "CPU without AVX-512 BF16 or AMX: bfloat16 would be emulated, which is slower than float32 "
        "(BENCHMARKS.md, Training throughput), and float16 on a CPU is slower still"
    )
