"""The box's renderers cover exactly the templates the shared job envelope admits."""

from __future__ import annotations

from agent.printing.templates import TEMPLATES as RECEIPT_RENDERERS
from drivers.label import TEMPLATES as LABEL_RENDERERS
from sync.protocol.print_job import LABEL_TEMPLATES, RECEIPT_TEMPLATES


def test_every_admitted_template_has_a_renderer_and_no_renderer_is_unreachable() -> None:
    assert set(RECEIPT_TEMPLATES) == set(RECEIPT_RENDERERS)
    assert set(LABEL_TEMPLATES) == set(LABEL_RENDERERS)
