"""Seeded randomness for the corpus, built on `random.random()` alone.

Python promises the same `random()` stream for the same seed across versions, but not the same `gauss`,
`poisson` or `choice` algorithms, so every distribution here is derived from uniform draws by hand. Each entity
(a monitor, a project, the host) draws from its own stream, named after it: adding an entity or an event to the
scenario leaves every other series byte-for-byte as it was.
"""

from __future__ import annotations

import hashlib
import math
import random


class Noise:
    """One named, seeded stream of random numbers."""

    def __init__(self, seed: int, name: str) -> None:
        digest = hashlib.sha256(f"{seed}/{name}".encode()).digest()
        self._random = random.Random(int.from_bytes(digest[:8], "big"))

    def uniform(self, low: float = 0.0, high: float = 1.0) -> float:
        return low + (high - low) * self._random.random()

    def chance(self, probability: float) -> bool:
        return self._random.random() < probability

    def integer(self, low: int, high: int) -> int:
        """A whole number in [low, high], both ends included."""
        return low + min(int(self._random.random() * (high - low + 1)), high - low)

    def normal(self, mean: float = 0.0, sigma: float = 1.0) -> float:
        """Box-Muller: one normal draw from two uniforms."""
        u1 = 1.0 - self._random.random()  # in (0, 1]: log() is defined
        u2 = self._random.random()
        return mean + sigma * math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def exponential(self, mean: float) -> float:
        return -mean * math.log(1.0 - self._random.random())

    def poisson(self, mean: float) -> int:
        """Knuth's multiplication method below 30; a rounded normal above it (its error there is negligible)."""
        if mean <= 0:
            return 0
        if mean >= 30:
            return max(0, round(self.normal(mean, math.sqrt(mean))))
        limit = math.exp(-mean)
        count, product = 0, self._random.random()
        while product > limit:
            count += 1
            product *= self._random.random()
        return count

    def heavy_tail(self, alpha: float, cap: int) -> int:
        """A Pareto-distributed whole number >= 1 (shape `alpha`), capped: most draws 1, a few large ones."""
        value = (1.0 - self._random.random()) ** (-1.0 / alpha)
        return min(int(value), cap)
