"""Work and time budgets for static extraction, so a hostile package cannot stall or exhaust a crawl.

Every extractor runs its files inside one package budget. Each file gets a work allowance that grows
linearly with its size (steps: node visits, name resolutions, value folds, schema conversions, and
bytes of text decoded) and a CPU-time allowance; the package has a CPU-time allowance for all its
files and a wall-clock one. CPU time is the reading thread's own, so a busy machine does not cut a
file short (the work allowance is what bounds hostile shapes, deterministically). When a file uses up its allowance, reading it stops with a `BudgetExceeded`, the extractor
records a `BudgetHit` naming the file and goes on with the next file, keeping the tools found so far.
Folded strings are capped in length, so doubling constant chains cannot exhaust memory.

The extractors charge the budget through the module functions `charge` and `check_length`, which act
on the budget active in the current thread or task (none active: unlimited, for direct callers).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

SECONDS_ENV = "CATALOG_EXTRACT_SECONDS"  # time budget per package, in seconds


@dataclass(frozen=True)
class Limits:
    """How much work and time static extraction may spend."""

    steps_per_byte: int = 40  # work allowed per byte of a file's source
    min_file_steps: int = 200_000  # a small file still gets this much
    max_string_chars: int = 200_000  # longest string folded from constants
    file_seconds: float = 4.0  # CPU time one file may take (the thread's, so a busy machine does
    package_seconds: float = 8.0  # not cut a file short), and CPU time all files of a package may take
    wall_seconds: float = 30.0  # wall time the package may take however busy the machine is

    @classmethod
    def from_environment(cls) -> Limits:
        """Defaults, with the package's time taken from CATALOG_EXTRACT_SECONDS when set."""
        raw = os.environ.get(SECONDS_ENV, "").strip()
        try:
            seconds = float(raw) if raw else 0.0
        except ValueError:
            seconds = 0.0
        if seconds <= 0:
            return cls()
        return cls(
            file_seconds=min(cls.file_seconds, seconds),
            package_seconds=seconds,
            wall_seconds=max(cls.wall_seconds, 4 * seconds),
        )


@dataclass(frozen=True)
class BudgetHit:
    """One file whose reading stopped early, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}; some of its tools may be missing"


class BudgetExceeded(Exception):
    """Reading a file used up its work or time allowance; the message says which."""


_CLOCK_EVERY = 1024  # look at the clock once per this many steps


class Budget:
    """The allowance of one package, and of the file being read within it."""

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits.from_environment()
        self.wall_deadline = time.monotonic() + self.limits.wall_seconds
        self.cpu_spent = 0.0  # CPU time spent reading the package's files so far
        self.steps = 0  # work spent on the current file
        self.total_steps = 0  # work spent on the whole package
        self.step_limit = 0
        self.cpu_deadline = 0.0  # thread CPU time at which the current file must stop
        self.hits: list[BudgetHit] = []
        self._next_clock = _CLOCK_EVERY

    def seconds_left(self) -> float:
        """Time left for the package (the lesser of its CPU and wall allowances)."""
        cpu_left = self.limits.package_seconds - self.cpu_spent
        return max(0.0, min(cpu_left, self.wall_deadline - time.monotonic()))

    @property
    def out_of_time(self) -> bool:
        return self.cpu_spent >= self.limits.package_seconds or time.monotonic() >= self.wall_deadline

    def read(self, path: str, size: int, work: Callable[[], None]) -> bool:
        """Run `work` on one file within its allowance; a `BudgetExceeded` (or a recursion too deep)
        inside is recorded as a hit on that file, not raised. False when the file was cut short."""
        if self.out_of_time:
            seconds = self.limits.package_seconds
            self.hits.append(BudgetHit(path, f"not read: package time budget of {seconds:g} s used up"))
            return False
        self.steps = 0
        self.step_limit = max(self.limits.min_file_steps, self.limits.steps_per_byte * size)
        started = time.thread_time()
        cpu_left = self.limits.package_seconds - self.cpu_spent
        self.cpu_deadline = started + min(self.limits.file_seconds, cpu_left)
        self._next_clock = _CLOCK_EVERY
        token = _ACTIVE.set(self)
        try:
            work()
            return True
        except BudgetExceeded as exceeded:
            self.hits.append(BudgetHit(path, f"reading stopped: {exceeded}"))
        except RecursionError:
            self.hits.append(BudgetHit(path, "reading stopped: too deeply nested"))
        finally:
            _ACTIVE.reset(token)
            self.total_steps += self.steps
            self.cpu_spent += time.thread_time() - started
        return False

    def charge(self, steps: int) -> None:
        self.steps += steps
        if self.steps > self.step_limit:
            raise BudgetExceeded(f"work budget of {self.step_limit} steps used up")
        if self.steps >= self._next_clock:
            self._next_clock = self.steps + _CLOCK_EVERY
            if time.thread_time() >= self.cpu_deadline:
                cpu_left = self.limits.package_seconds - self.cpu_spent
                seconds = min(self.limits.file_seconds, cpu_left)
                whose = "file" if seconds == self.limits.file_seconds else "package"
                raise BudgetExceeded(f"{whose} CPU time budget of {seconds:g} s used up")
            if time.monotonic() >= self.wall_deadline:
                raise BudgetExceeded(f"package time budget of {self.limits.wall_seconds:g} s used up")


_ACTIVE: ContextVar[Budget | None] = ContextVar("extract_budget", default=None)


def charge(steps: int = 1) -> None:
    """Spend work from the active budget; raises BudgetExceeded when the file's allowance is gone."""
    budget = _ACTIVE.get()
    if budget is not None:
        budget.charge(steps)


def check_length(chars: int) -> None:
    """Refuse to build a folded string longer than the limit (charged as work too)."""
    budget = _ACTIVE.get()
    if budget is None:
        return
    if chars > budget.limits.max_string_chars:
        raise BudgetExceeded(f"string longer than {budget.limits.max_string_chars} characters")
    budget.charge(1 + chars // 256)
