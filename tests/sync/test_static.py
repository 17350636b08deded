"""The browser helpers shared by the box's status page and HQ's dashboard, and their inlining."""

from __future__ import annotations

import re

import pytest

from sync.static import SHARED_TAG, inline_shared, shared_script

HELPERS = ("el", "p2", "when", "row")


def test_the_shared_script_defines_the_helpers_once_and_cannot_end_its_script_element() -> None:
    js = shared_script()
    assert sorted(re.findall(r"^function (\w+)\(", js, re.M)) == sorted(HELPERS)
    assert "</script" not in js.lower()


def test_the_tag_is_replaced_by_the_script_and_chinese_around_it_is_kept() -> None:
    page = f"<h1>打印状态</h1>\n{SHARED_TAG}\n<script>\nrow([\"缺纸\"]);\n</script>\n"
    out = inline_shared(page)
    assert SHARED_TAG not in out
    assert out == page.replace(SHARED_TAG, f"<script>\n{shared_script()}</script>")
    assert out.startswith("<h1>打印状态</h1>\n<script>\n") and out.count("<script>") == 2


@pytest.mark.parametrize("page", ["<p>门店</p>", f"{SHARED_TAG}{SHARED_TAG}"])
def test_a_page_must_ask_for_the_helpers_exactly_once(page: str) -> None:
    with pytest.raises(ValueError, match="once"):
        inline_shared(page)
