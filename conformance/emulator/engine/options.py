"""What SetOptions leaves behind, per TypeOfSession, and what routing reads from it.

TypeOfSession 0 holds the general setting: it applies to every type that has no setting of its
own. Only MaxNumberOfSessions and AllowDifferentTypes change routing; the tab and link options are
stored and shown in ``/control/state`` because an agent desktop, not the router, acts on them.
"""

from __future__ import annotations

from conformance.contract.constraints import CONSTRAINTS
from conformance.emulator.engine.model import OptionsInput, snake
from conformance.emulator.faults import NONE, Defect, Planted

_TYPE = "SetOptionsRequest"
_SETTINGS = (
    "AgentActionOptions",
    "AllowDifferentTypes",
    "CloseTabOptions",
    "MaxNumberOfSessions",
    "SessionLinkOptions",
)
ALL_TYPES = 0
_DONT_ALLOW = CONSTRAINTS.option_values["AllowDifferentTypes"]["dont_allow"]


class Options:
    """Options by TypeOfSession; a missing entry means "use the general one, else default"."""

    def __init__(self, faults: Planted = NONE) -> None:
        self.faults = faults
        """Planted defects (``conformance.emulator.faults``); empty: the reference behaviour."""
        self._by_type: dict[int, dict[str, int]] = {}
        self.version = 0
        """Grows on every change, so routing can tell that capacities may have changed."""

    def apply(self, request: OptionsInput) -> None:
        """Apply one SetOptions call (already validated): reset first, then the values given."""
        f = self.faults
        type_of_session = request.type_of_session
        if type_of_session in CONSTRAINTS.not_given(_TYPE, "TypeOfSession"):
            type_of_session = ALL_TYPES  # R5: -1 (like 0) is "not given": all types
        # implements OPT-RESET-ALL
        if request.reset_all_options and Defect.RESET_ALL_OPTIONS_IGNORED not in f:
            self._by_type.pop(type_of_session, None)
        for field in _SETTINGS:
            value = getattr(request, snake(field))
            key = type_of_session
            if field == "MaxNumberOfSessions":
                # implements OPT-MAX-SESSIONS
                if Defect.MAX_SESSIONS_ALL_TYPES_IGNORED in f and key == ALL_TYPES:
                    continue
                # implements OPT-MAX-SESSIONS-PER-TYPE
                if Defect.MAX_SESSIONS_PER_TYPE_FOR_ALL in f:
                    key = ALL_TYPES
            if value not in CONSTRAINTS.not_given(_TYPE, field):
                self._by_type.setdefault(key, {})[field] = value
        self.version += 1

    def _lookup(self, type_of_session: int, field: str) -> int | None:
        keys: tuple[int, ...] = (type_of_session, ALL_TYPES)
        # implements OPT-TYPE-ZERO-ALL-TYPES
        if Defect.ALL_TYPES_SETTING_BEATS_OWN_TYPE in self.faults:
            keys = (ALL_TYPES, type_of_session)
        # implements OPT-ALLOW-DIFFERENT-TYPES-ALL
        if Defect.DONT_ALLOW_ALL_TYPES_IGNORED in self.faults and field == "AllowDifferentTypes":
            keys = (type_of_session,)
        for key in keys:
            value = self._by_type.get(key, {}).get(field)
            if value is not None:
                return value
        return None

    def max_sessions(self, type_of_session: int) -> int:
        value = self._lookup(type_of_session, "MaxNumberOfSessions")
        return int(CONSTRAINTS.defaults["max_number_of_sessions"]) if value is None else value

    def highest_max_sessions(self) -> int:
        """The largest MaxNumberOfSessions in force for any type (routing's quick exit)."""
        values = [
            v["MaxNumberOfSessions"] for v in self._by_type.values() if "MaxNumberOfSessions" in v
        ]
        return max([int(CONSTRAINTS.defaults["max_number_of_sessions"]), *values])

    def allows_different_types(self, type_of_session: int) -> bool:
        value = self._lookup(type_of_session, "AllowDifferentTypes")
        if value is None:
            # implements OPT-ALLOW-DIFFERENT-TYPES-DEFAULT
            if Defect.DIFFERENT_TYPES_REFUSED_BY_DEFAULT in self.faults:
                return False
            return bool(CONSTRAINTS.defaults["allow_different_types"])
        own = self._by_type.get(type_of_session, {}).get("AllowDifferentTypes")
        # implements OPT-ALLOW-DIFFERENT-TYPES-DONT-ALLOW
        if Defect.DONT_ALLOW_IGNORED in self.faults and own is not None and type_of_session:
            return True
        return value != _DONT_ALLOW

    def snapshot(self) -> dict[str, dict[str, int]]:
        return {str(key): dict(value) for key, value in sorted(self._by_type.items())}
