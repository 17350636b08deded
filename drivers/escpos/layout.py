"""Width-aware line layout: wrapping, padded cells and rules, counted in printer columns."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from drivers import InvalidInput
from drivers.escpos.document import Align, Cell

Measure = Callable[[str], int]

# Line-breaking courtesy (a light kinsoku): never start a line with closing punctuation, never
# end one with opening punctuation.
NO_BREAK_BEFORE = frozenset("，。、；：！？）」』】》〉〕”’・…‥ー,.;:!?)]}%")
NO_BREAK_AFTER = frozenset("（「『【《〈〔“‘([{")


def line_columns(text: str, measure: Measure) -> int:
    """Display width of `text` in columns."""
    return sum(measure(c) for c in text)


def _can_break(prev: str, prev_w: int, ch: str, w: int) -> bool:
    """True if a line may end between `prev` and `ch`."""
    if prev == " ":
        return ch != " "
    if ch == " " or ch in NO_BREAK_BEFORE or prev in NO_BREAK_AFTER:
        return False
    return prev_w == 2 or w == 2


def _join(line: Sequence[tuple[str, int]]) -> str:
    return "".join(c for c, _ in line).rstrip(" ")


def _wrap_paragraph(para: str, limit: int, measure: Measure, path: str) -> list[str]:
    lines: list[str] = []
    line: list[tuple[str, int]] = []
    width = 0
    brk = 0  # index in `line` where it may be broken (0: nowhere)
    for ch in para:
        w = measure(ch)
        if w > limit:
            raise InvalidInput(path, f"{ch!r} is {w} columns wide, the line holds {limit}")
        if line and _can_break(line[-1][0], line[-1][1], ch, w):
            brk = len(line)
        if width + w > limit:
            if ch == " ":
                lines.append(_join(line))
                line, width, brk = [], 0, 0
                continue
            cut = brk or len(line)
            lines.append(_join(line[:cut]))
            line = line[cut:]
            while line and line[0][0] == " ":
                line.pop(0)
            width, brk = sum(cw for _, cw in line), 0
            if width + w > limit:
                lines.append(_join(line))
                line, width = [], 0
        line.append((ch, w))
        width += w
    lines.append(_join(line))
    return lines


def wrap(text: str, limit: int, measure: Measure, path: str = "text") -> list[str]:
    """Wrap `text` into lines of at most `limit` columns; LF forces a break, a trailing LF does
    not add a blank line; a double-width character is never split. InvalidInput at `path` if a
    single character is wider than `limit`."""
    paras = text.split("\n")
    if len(paras) > 1 and paras[-1] == "":
        paras.pop()
    out: list[str] = []
    for para in paras:
        out.extend(_wrap_paragraph(para, limit, measure, path))
    return out


def pad(text: str, width: int, align: Align, measure: Measure) -> str:
    """`text` padded with spaces to `width` columns, placed by `align`."""
    space = max(width - line_columns(text, measure), 0)
    if align == "right":
        return " " * space + text
    if align == "center":
        return " " * (space // 2) + text + " " * (space - space // 2)
    return text + " " * space


def cell_widths(cells: Sequence[Cell], columns: int, path: str) -> list[int]:
    """Widths of the cells of a row; the cell without a width takes what is left."""
    if not cells:
        raise InvalidInput(f"{path}.cells", "must be a non-empty list")
    fixed = 0
    free = [j for j, c in enumerate(cells) if c.width is None]
    for j, c in enumerate(cells):
        if c.width is not None:
            if c.width < 1:
                raise InvalidInput(f"{path}.cells[{j}].width", "must be at least 1")
            fixed += c.width
    if len(free) > 1:
        raise InvalidInput(f"{path}.cells", "at most one cell may leave out its width")
    if fixed > columns:
        raise InvalidInput(f"{path}.cells", f"cells are {fixed} columns wide, paper is {columns}")
    if free and fixed >= columns:
        raise InvalidInput(f"{path}.cells", f"cells take all {columns} columns, none is left "
                                            "for the cell without a width")
    return [columns - fixed if c.width is None else c.width for c in cells]


def columns_lines(cells: Sequence[Cell], columns: int, measure: Measure, path: str) -> list[str]:
    """Physical lines of a row: each cell wrapped inside its width, padded, side by side."""
    widths = cell_widths(cells, columns, path)
    wrapped = [wrap(c.text, w, measure, f"{path}.cells[{j}].text")
               for j, (c, w) in enumerate(zip(cells, widths, strict=True))]
    rows = max(len(lines) for lines in wrapped)
    out = []
    for r in range(rows):
        parts = [pad(lines[r] if r < len(lines) else "", w, c.align, measure)
                 for c, w, lines in zip(cells, widths, wrapped, strict=True)]
        out.append("".join(parts).rstrip(" "))
    return out


def rule_line(char: str, columns: int, measure: Measure, path: str) -> str:
    """`char` repeated across `columns` (a double-width character counts two)."""
    if len(char) != 1:
        raise InvalidInput(f"{path}.char", "must be one character")
    w = measure(char)
    if w < 1 or char == "\n":
        raise InvalidInput(f"{path}.char", "must be a visible character")
    return char * (columns // w)
