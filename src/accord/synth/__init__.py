"""Synthetic agency record systems with ground truth (see docs/synth.md).

>>> from accord.synth import generate, SynthConfig
>>> result = generate(10_000, seed=1, out=Path("world"))   # doctest: +SKIP
"""

from accord.synth.config import STATUSES, SynthConfig
from accord.synth.generate import SynthResult, generate
from accord.synth.writer import WrittenExtract

__all__ = ["STATUSES", "SynthConfig", "SynthResult", "WrittenExtract", "generate"]
