"""Router and licence outages for the length of a block, planted through the control plane.

The fault is always lifted after the block, whatever the block raised, so a failing test never
leaves the target without its router or licence for the tests after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from conformance.wire import ControlClient


@contextmanager
def _switched_off(switch: Callable[[bool], Any]) -> Iterator[None]:
    switch(False)
    try:
        yield
    finally:
        switch(True)


@contextmanager
def router_lost(control: ControlClient) -> Iterator[None]:
    """The router is disconnected inside the block and reconnected after it."""
    with _switched_off(control.router):
        yield


@contextmanager
def licence_lost(control: ControlClient) -> Iterator[None]:
    """The licence is unavailable inside the block and restored after it."""
    with _switched_off(control.license):
        yield


def router_blip(control: ControlClient) -> None:
    """The router drops and comes straight back: every active request ends Failed (R15)."""
    with router_lost(control):
        pass
