"""Stable test identities, and no stray files, wherever a suite run starts (pytest plugin).

pytest names a test by its path relative to the *rootdir*, which it guesses from the working
directory and from every argument that looks like a path: a ``--om-profile`` or ``--om-baseline`` in
another folder moved the rootdir there (``../../elsewhere/test_x.py::test_y``, or
``::test_y`` with no file at all), wrote ``.pytest_cache`` there and ``.hypothesis`` into the
working directory. A baseline entry ``test = "conformance/suite/test_x.py::test_y"`` then
neither matched nor went stale. So a suite test has one ID, whichever way the suite is started
(``openmedia-conformance run``, ``pytest --pyargs conformance.suite``, ``pytest`` in a checkout)
and wherever the package lives (a checkout, or ``site-packages`` from a wheel)::

    conformance/suite/test_x.py::test_y[params]

How:

* ``openmedia-conformance run`` makes the rootdir the folder holding the ``conformance``
  package (``--rootdir``) and reads its pytest configuration from ``run.ini`` beside this
  module (``-c``), never from the folder it runs in: a user's ``pytest.ini`` (say
  ``filterwarnings = error``) cannot change the suite, and no ``conftest.py`` above the package
  is loaded (``conformance.cli.run``);
* a plain pytest run cannot be given a rootdir by a plugin, so every suite module gets its ID
  from its place in the package (``pytest_pycollect_makemodule``), and the console shows suite
  IDs as they are, not relative to the working directory (pytest would print
  ``../../usr/lib/python3/site-packages/conformance/suite/...``);
* a run that collects the suite writes no pytest cache (the cache provider is off, as the
  checkout's ``pyproject.toml`` has it), and Hypothesis keeps its files (its example database,
  its caches) in ``reports/.hypothesis`` of the working directory, or where
  ``HYPOTHESIS_STORAGE_DIRECTORY`` names.

PYTEST_DONT_REWRITE: other modules of the plugin import this one before pytest registers it
(pytest < 9.2 would warn that it cannot rewrite it); it has no assert to rewrite.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from conformance.contract.paths import PACKAGE_PARENT, RUN_INI, SUITE_DIR

SUITE_PREFIX = "conformance/suite/"
"""How every suite test's ID starts."""
HYPOTHESIS_DIR = Path("reports") / ".hypothesis"
"""Hypothesis' home for a suite run, relative to the working directory (as ``reports/``)."""
HYPOTHESIS_ENV = "HYPOTHESIS_STORAGE_DIRECTORY"
"""Hypothesis' own variable: a folder the user names for its files, which a run keeps."""

_SUITE_RUN_KEY = pytest.StashKey[bool]()


def suite_path(path: Path) -> str | None:
    """``conformance/suite/...`` for a file of the installed suite, else None."""
    try:
        relative = path.resolve().relative_to(SUITE_DIR)
    except ValueError:
        return None
    return SUITE_PREFIX + relative.as_posix()


def is_suite_id(nodeid: object) -> bool:
    """True for the ID of a suite test or module (a ``str`` or pytest's structured form)."""
    return str(nodeid).startswith(SUITE_PREFIX)


# -- which runs collect the suite ----------------------------------------------------------------
def _arg_path(arg: str, base: Path, pyargs: bool) -> Path | None:
    text = arg.split("::", 1)[0]
    candidate = base / text
    if candidate.exists():
        return candidate.resolve()
    if pyargs:
        try:
            spec = importlib.util.find_spec(text)
        except (ImportError, ValueError):
            return None
        if spec is not None and spec.submodule_search_locations:
            return Path(next(iter(spec.submodule_search_locations))).resolve()
        if spec is not None and spec.origin:
            return Path(spec.origin).resolve()
    return None


def collects_from(
    args: Iterable[str], base: Path, pyargs: bool, suite_dirs: Sequence[Path]
) -> bool:
    """True when one of ``args`` names a suite folder, a file in one, or a folder holding one."""
    for arg in args:
        path = _arg_path(arg, base, pyargs)
        if path is not None and any(
            path.is_relative_to(d) or d.is_relative_to(path) for d in suite_dirs
        ):
            return True
    return False


# -- hooks ---------------------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    """Before pytest loads the first ``conftest.py`` and the cache provider configures itself.

    * No pytest cache for a run of the suite. The checkout's ``pyproject.toml`` and ``run.ini``
      say ``-p no:cacheprovider`` too, but ``pytest --pyargs conformance.suite`` in another
      folder reads neither; nor does ``pytest`` in the checkout given ``--om-profile`` or
      ``--om-baseline`` in another folder: pytest looks for its configuration before it knows
      those options, takes their values for test paths and roots itself in their folder. That
      run then also lacks the checkout's ``testpaths`` and would collect the self-tests too: it
      is given the suite, as ``testpaths`` would.
    * ``run`` loads no ``conftest.py`` of the folder it runs in: given ``--pyargs``, pytest
      looks for the first ones in the working directory, unless told the package's folders.
    """
    namespace = early_config.known_args_namespace
    given = list(getattr(namespace, "file_or_dir", None) or [])
    base = early_config.invocation_params.dir
    pyargs = bool(getattr(namespace, "pyargs", False))
    chosen = getattr(namespace, "inifilename", None) or getattr(namespace, "rootdir", None)
    if not given and not chosen and base == PACKAGE_PARENT and early_config.rootpath != base:
        given = [str(SUITE_DIR)]
        args.append(given[0])
        namespace.file_or_dir = given
    if pyargs and early_config.inipath == RUN_INI:
        namespace.file_or_dir = [str(_arg_path(a, base, pyargs) or a) for a in given]
    if collects_from(given, base, pyargs, [SUITE_DIR]):
        early_config.pluginmanager.consider_pluginarg("no:cacheprovider")


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> Any:
    """A suite module's ID comes from its place in the package, not from pytest's rootdir."""
    nodeid = suite_path(module_path)
    if nodeid is None:
        return None
    return pytest.Module.from_parent(parent, path=module_path, nodeid=nodeid)


def targets_suite(config: pytest.Config) -> bool:
    """True when the run collects from a suite folder (or from a folder holding one)."""
    suite_dirs = [SUITE_DIR, *(Path(p).resolve() for p in config.getini("openmedia_suite_dirs"))]
    return collects_from(
        config.args, config.invocation_params.dir, bool(config.option.pyargs), suite_dirs
    )


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """For a run of the suite: its IDs shown as they are, Hypothesis' files under reports/."""
    if not targets_suite(config):
        return
    config.stash[_SUITE_RUN_KEY] = True
    relative = config.cwd_relative_nodeid

    def cwd_relative_nodeid(nodeid: Any) -> Any:
        return nodeid if is_suite_id(nodeid) else relative(nodeid)

    # pytest prints every ID relative to the working directory, and offers no hook for it.
    setattr(config, "cwd_relative_nodeid", cwd_relative_nodeid)  # noqa: B010
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        # The file a progress line names: rootdir + the test's ID, shown from the rootdir.
        reporter.startpath = config.rootpath
    if not os.environ.get(HYPOTHESIS_ENV):
        _hypothesis_home(config.invocation_params.dir / HYPOTHESIS_DIR)


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_SUITE_RUN_KEY, False) and not os.environ.get(HYPOTHESIS_ENV):
        _hypothesis_home(None)


def _hypothesis_home(directory: Path | None) -> None:
    """Where Hypothesis keeps its files (None: its default, ``.hypothesis`` in the cwd)."""
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(directory)
