"""Learning and education (学习教育) without I/O: what a material is, whom it
is meant for, and who of them has read it.

A material is published by the district's offices (for every deputy of the
district) or by a street committee (for the deputies of its street). A
document or an article carries its text; a video is a link (https).
A deputy marks a material read once; marking it again changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from kit.errors import Violations

TITLE_MAX = 200
TEXT_MAX = 100_000
URL_MAX = 2000


class MaterialKind(StrEnum):
    DOCUMENT = "document"
    ARTICLE = "article"
    VIDEO = "video"


@dataclass(frozen=True)
class MaterialDraft:
    """A material as a publisher sends it, before it is stored."""

    title: str
    kind: str
    text: str = ""
    url: str = ""


def check_material(draft: MaterialDraft) -> MaterialDraft:
    """The draft trimmed, or INVALID_ARGUMENT naming every field at fault:
    a title; a kind of document/article/video; a document or an article
    needs its text (a link may come with it), a video its https link."""
    title, text, url = draft.title.strip(), draft.text.strip(), draft.url.strip()
    problems = Violations()
    problems.require("title", title)
    if len(title) > TITLE_MAX:
        problems.add("title", f"at most {TITLE_MAX} characters")
    problems.one_of("kind", draft.kind, [k.value for k in MaterialKind])
    if len(text) > TEXT_MAX:
        problems.add("text", f"at most {TEXT_MAX} characters")
    if url:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc:
            problems.add("url", "must be an https link")
        elif len(url) > URL_MAX:
            problems.add("url", f"at most {URL_MAX} characters")
    if draft.kind == MaterialKind.VIDEO and not url:
        problems.add("url", "a video needs its link")
    if draft.kind in (MaterialKind.DOCUMENT, MaterialKind.ARTICLE) and not text:
        problems.add("text", f"a {draft.kind} needs its text")
    problems.raise_if_any("the material cannot be published")
    return MaterialDraft(title, draft.kind, text, url)


@dataclass(frozen=True)
class Readership:
    """Who of the deputies a material is meant for has read it (ids ascending)."""

    read: tuple[int, ...]
    not_read: tuple[int, ...]


def readership(intended: Iterable[int], readers: Iterable[int]) -> Readership:
    """Read / not read among the intended deputies; a reader who is no longer
    among them (moved street, left) is not counted."""
    meant = set(intended)
    done = set(readers) & meant
    return Readership(tuple(sorted(done)), tuple(sorted(meant - done)))
