"""Learning materials: what may be published and who has read what."""

from __future__ import annotations

import pytest

from duties.learning import MaterialDraft, check_material, readership
from kit.errors import InvalidArgument


def fields(draft: MaterialDraft) -> set[str]:
    with pytest.raises(InvalidArgument) as caught:
        check_material(draft)
    return {v.field for v in caught.value.violations}


def test_an_article_with_text_is_trimmed_and_kept() -> None:
    kept = check_material(MaterialDraft("  代表法学习 ", "article", " 正文 "))
    assert (kept.title, kept.text) == ("代表法学习", "正文")


def test_a_video_needs_an_https_link() -> None:
    assert fields(MaterialDraft("t", "video")) == {"url"}
    assert fields(MaterialDraft("t", "video", url="http://example.org/v")) == {"url"}
    assert check_material(MaterialDraft("t", "video", url="https://example.org/v")).url


def test_every_fault_is_named_at_once() -> None:
    assert fields(MaterialDraft(" ", "podcast", url="ftp://x")) == {"title", "kind", "url"}
    assert fields(MaterialDraft("t" * 201, "document")) == {"title", "text"}


def test_readership_among_the_intended_only() -> None:
    found = readership(intended=[3, 1, 2, 5], readers=[2, 9, 5, 2])
    assert found.read == (2, 5)
    assert found.not_read == (1, 3)
