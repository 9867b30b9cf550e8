"""Sections that the kind-specific apps add to the case page.

The case page belongs to protocol, which must not import cpu or dv_cases; they
register their sections here from AppConfig.ready(). Each section names the
part of the case it shows, and is rendered only for a user who may see that part.
"""

from collections.abc import Callable
from dataclasses import dataclass

from .models import Case


@dataclass(frozen=True)
class Section:
    kind: str
    part: str
    title: str
    template: str
    # (user, case) -> the template's context; called only when the part is visible.
    context: Callable[..., dict]
    order: int = 100


_SECTIONS: list[Section] = []


def register_section(section: Section) -> None:
    if all(existing.template != section.template for existing in _SECTIONS):
        _SECTIONS.append(section)


def sections_for(case: Case) -> list[Section]:
    return sorted((s for s in _SECTIONS if s.kind == case.kind), key=lambda s: s.order)


# Where a step recorded by its own form is done, when a kind-specific app
# records it (the DV risk assessment is a questionnaire of dv_cases).
_ACTION_URLS: dict[tuple[str, str], str] = {}


def register_action_url(kind: str, action: str, url_name: str) -> None:
    _ACTION_URLS[(kind, action)] = url_name


def action_url_name(kind: str, action: str) -> str | None:
    return _ACTION_URLS.get((kind, action))
