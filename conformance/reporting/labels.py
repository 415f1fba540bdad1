"""Allure labels and links of a suite test, derived from the requirements it cites.

Tests carry no reporting calls: the ``requirement`` marker names catalogue IDs, and everything
Allure shows about the specification comes from the catalogue (``schemas/requirements.toml``):

* ``epic``: the section's chapter of the interface description ("Requests", "Status requests");
* ``feature``: the section's WSDL operation, or its title when it has none ("Authentication");
* ``story``: each cited requirement ID, one story per ID;
* ``severity``: from the highest level cited: MUST ``critical``, SHOULD ``normal``, OPEN ``minor``;
* a ``section`` link per section, named after the heading it rests on ("Interface description
  9.7 § ADDREQUEST"). Its URL is ``reqs://openmedia/<section key>``, a stable name rather than
  an address (the description is not ours to publish); pass allure-pytest's
  ``--allure-link-pattern section:https://your.wiki/openmedia/{}`` to turn it into a real link
  (``{}`` is the section key).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from conformance.contract.catalogue import CATALOGUE, Catalogue, Section

SEVERITY_BY_LEVEL: dict[str, str] = {"MUST": "critical", "SHOULD": "normal", "OPEN": "minor"}
LINK_TYPE = "section"
LINK_SCHEME = "reqs://openmedia/"
DOCUMENT_BY_SOURCE: dict[str, str] = {
    "description": "Interface description 9.7",
    "wire": "Wire contract (WSDL and XSDs)",
    "control-plane": "Control plane v1",
    "project": "Requirement catalogue",
}


@dataclass(frozen=True)
class SectionLink:
    """A link to the section a requirement belongs to; ``key`` fills a link pattern's ``{}``."""

    key: str
    name: str

    @property
    def default_url(self) -> str:
        return LINK_SCHEME + self.key


@dataclass(frozen=True)
class AllureLabels:
    """What Allure shows about the specification a test checks."""

    epics: tuple[str, ...]
    features: tuple[str, ...]
    stories: tuple[str, ...]
    severity: str
    links: tuple[SectionLink, ...]

    def pairs(self) -> list[tuple[str, str]]:
        """``(label name, value)`` pairs, severity last."""
        return [
            *(("epic", value) for value in self.epics),
            *(("feature", value) for value in self.features),
            *(("story", value) for value in self.stories),
            ("severity", self.severity),
        ]


def section_link(section: Section) -> SectionLink:
    document = DOCUMENT_BY_SOURCE.get(section.source, section.source)
    return SectionLink(section.key, f"{document} § {section.anchor or section.title}")


def labels_for(requirement_ids: Iterable[str], catalogue: Catalogue = CATALOGUE) -> AllureLabels:
    """The labels of a test citing ``requirement_ids`` (unknown IDs are left out: the plugin
    already made them a collection error)."""
    requirements = [r for r in map(catalogue.get, dict.fromkeys(requirement_ids)) if r]
    sections = [catalogue.section(key) for key in dict.fromkeys(r.section for r in requirements)]
    levels = {r.level for r in requirements}
    level = next((lvl for lvl in SEVERITY_BY_LEVEL if lvl in levels), "SHOULD")
    return AllureLabels(
        epics=tuple(dict.fromkeys(s.chapter for s in sections)),
        features=tuple(dict.fromkeys(s.operation or s.title for s in sections)),
        stories=tuple(r.id for r in requirements),
        severity=SEVERITY_BY_LEVEL[level],
        links=tuple(section_link(s) for s in sections),
    )
