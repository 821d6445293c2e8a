"""Turning what callers pass — numpy arrays, CPU tensors, nested lists — into numpy arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

# DLPack device types whose memory the CPU can read: plain CPU memory and pinned host memory.
_HOST_DEVICES = {1: "CPU", 3: "CUDA host"}
_DEVICE_NAMES = {
    2: "CUDA",
    4: "OpenCL",
    7: "Vulkan",
    8: "Metal",
    9: "VPI",
    10: "ROCm",
    13: "CUDA managed",
    14: "oneAPI",
}


def as_numpy(value: Any, name: str) -> np.ndarray:
    """``value`` as a numpy array, without a copy where its producer allows one.

    Takes numpy arrays, objects exposing ``__dlpack__`` (CPU torch tensors, JAX and CuPy host
    arrays) or ``__array__``, and nested sequences; torch is never imported. A tensor in
    accelerator memory is refused with a message saying to copy it to the CPU.
    """
    if isinstance(value, np.ndarray):
        return value
    device = getattr(value, "__dlpack_device__", None)
    if device is not None and hasattr(value, "__dlpack__"):
        device_type = int(device()[0])
        if device_type not in _HOST_DEVICES:
            where = _DEVICE_NAMES.get(device_type, f"DLPack device type {device_type}")
            raise ValueError(
                f"{name} is in {where} memory; copy it to the CPU first (for a torch tensor: {name}.cpu())"
            )
        try:
            return np.from_dlpack(value)
        except (BufferError, RuntimeError, TypeError, ValueError):
            pass  # a dtype numpy lacks, a tensor that requires grad, ...: __array__ may still work
    try:
        return np.asarray(value)
    except (RuntimeError, TypeError, ValueError) as error:
        hint = " (for a torch tensor that requires grad: .detach())" if "grad" in str(error) else ""
        raise TypeError(f"{name} cannot be read as a numpy array{hint}: {error}") from None
