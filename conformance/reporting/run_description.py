"""How a run was set up, as the reports say it: the shape of the settings they read.

A failure's re-run command, ``environment.properties`` and the certificate's header all describe
the run's configuration. They read it through :class:`RunDescription`, a read-only shape that
``conformance.plugin.settings.RunSettings`` has, so reporting takes values and depends on nothing
of the plugin.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from conformance.profile import Profile
    from conformance.reporting.baseline import Baseline


class RunDescription(Protocol):
    """The run's resolved configuration, read only (``RunSettings`` is one)."""

    @property
    def target_url(self) -> str | None: ...

    @property
    def control_url(self) -> str | None: ...

    @property
    def profile(self) -> Profile: ...

    @property
    def profile_path(self) -> Path: ...

    @property
    def logon_id(self) -> str | None: ...

    @property
    def password(self) -> str | None: ...

    @property
    def password_from_outside(self) -> bool:
        """The password came from outside the profile: a repeat must be given it again."""
        ...

    @property
    def strict(self) -> bool: ...

    @property
    def reruns(self) -> int:
        """``--om-reruns``: how many more times a failed test ran (its *flaky* verdict)."""
        ...

    @property
    def command_options(self) -> tuple[str, ...]:
        """The suite options that point a new run at this target the same way, spelled as the
        run command takes them (no password: a repeat reads it from the environment)."""
        ...

    @property
    def timeout_s(self) -> float: ...

    @property
    def emulator_faults(self) -> tuple[str, ...]: ...

    @property
    def embedded(self) -> bool: ...

    @property
    def baseline(self) -> Baseline | None: ...
