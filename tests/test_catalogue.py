"""The German catalogue is complete: every string the code marks for translation (Python,
Jinja templates and scripts, extracted as ``pybabel extract -F babel.cfg`` does) has a
German translation that is not empty, not fuzzy, and keeps the English placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ["de"]
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
# %(name)s for Python, Jinja and the scripts; {name} where str.format fills them.
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def extracted() -> dict[str, tuple[str, int]]:
    """Every msgid in web/ (plural forms by their singular), with where it was found."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[str, tuple[str, int]] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.setdefault(text, (filename, line))
    return found


@pytest.fixture(scope="module")
def messages() -> dict[str, tuple[str, int]]:
    found = extracted()
    assert len(found) > 40, "the extraction found almost nothing: is babel.cfg right?"
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_has_a_translation(messages, language):
    po = ROOT / "web" / "translations" / language / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    translated: dict[str, str] = {}
    problems = []
    for entry in catalogue:
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        elif not all(s.strip() for s in strings):
            problems.append(f"empty: {ids[0]!r}")
        for text in ids:
            translated[text] = strings[-1]
        wanted = sorted(set(PLACEHOLDER.findall(" ".join(ids))))
        for string in strings:
            if sorted(set(PLACEHOLDER.findall(string))) != wanted and string.strip():
                problems.append(f"placeholders differ: {ids[0]!r} -> {string!r}")
    for text, (filename, line) in sorted(messages.items()):
        if text not in translated:
            problems.append(f"missing: {text!r} ({filename}:{line})")
    assert not problems, f"{po.relative_to(ROOT)}:\n" + "\n".join(problems)


def test_the_check_fails_on_a_missing_string(tmp_path, messages):
    """The extraction sees all three kinds of file, so a new string anywhere is caught."""
    kinds = {Path(filename).suffix for filename, _line in messages.values()}
    assert {".py", ".html", ".js"} <= kinds
