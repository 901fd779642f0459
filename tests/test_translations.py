"""Every product string marked for translation has its Traditional and Simplified Chinese in the
catalogues (locale/), with the same placeholders, and the compiled catalogues are those of the sources.

A string added to the code with gettext and not translated makes this fail: extract the strings again
(`make messages`), translate the new entries in both django.po files, compile (`make messages` does)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

ROOT = Path(settings.BASE_DIR)
LOCALES = ("zh_Hant", "zh_Hans")
SOURCES = ("accounts", "audit", "compliance", "config", "transactions", "templates", "manage.py")
needs_gettext = pytest.mark.skipif(
    shutil.which("xgettext") is None and os.environ.get("CI", "").lower() != "true",
    reason="needs GNU gettext (Debian's gettext package) to extract the strings",
)


def _unquote(lines: list[str]) -> str:
    return "".join(
        bytes(line.strip()[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8") for line in lines
    )


def catalogue(path: Path) -> dict[str, dict]:
    """{msgid: {"msgstr": str, "fuzzy": bool}} of a .po file (the header left out)."""
    entries, block = {}, []
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if raw.strip():
            block.append(raw)
            continue
        fields, current, fuzzy = {}, None, False
        for line in block:
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            elif line.startswith("#"):
                continue
            elif match := re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?) (".*")$', line):
                current = match.group(1)
                fields[current] = [match.group(2)]
            elif line.startswith('"') and current:
                fields[current].append(line)
        block = []
        if "msgid" in fields and _unquote(fields["msgid"]):
            translated = fields.get("msgstr") or fields.get("msgstr[0]") or []
            entries[_unquote(fields["msgid"])] = {"msgstr": _unquote(translated), "fuzzy": fuzzy}
    return entries


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\(\w+\)s|%%|\{\w*\}", text))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set[str]:
    """The strings the code marks for translation now, extracted as `make messages` does, in a copy of
    the sources (the repository's catalogues are left alone)."""
    copy = tmp_path_factory.mktemp("sources")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "static"))
        else:
            shutil.copy2(source, copy / name)
    (copy / "locale").mkdir()
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hant", "--no-location", "--no-wrap"],
        cwd=copy, env=environment, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return set(catalogue(copy / "locale" / "zh_Hant" / "LC_MESSAGES" / "django.po"))


@needs_gettext
@pytest.mark.parametrize("locale", LOCALES)
def test_every_marked_string_is_translated_with_its_placeholders(extracted, locale):
    entries = catalogue(ROOT / "locale" / locale / "LC_MESSAGES" / "django.po")

    missing = sorted(m for m in extracted if m not in entries or not entries[m]["msgstr"] or entries[m]["fuzzy"])
    assert not missing, f"{len(missing)} strings without a {locale} translation (run make messages): {missing[:10]}"
    wrong = sorted(m for m in extracted if placeholders(m) != placeholders(entries[m]["msgstr"]))
    assert not wrong, f"{locale} translations whose placeholders differ from the English: {wrong[:5]}"


@needs_gettext
@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalogue_is_the_translated_one(locale, tmp_path):
    folder = ROOT / "locale" / locale / "LC_MESSAGES"
    compiled = tmp_path / "django.mo"

    subprocess.run(["msgfmt", "--check-format", "-o", str(compiled), str(folder / "django.po")], check=True)

    assert (folder / "django.mo").read_bytes() == compiled.read_bytes(), "run make messages and commit django.mo"


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh-hant", ("已超出上限", "實際交易金額", "承諾金額")), ("zh-hans", ("已超出上限", "实际交易金额", "承诺金额"))],
)
def test_the_product_speaks_the_catalogues_in_each_chinese(language, words):
    from compliance.models import LedgerEntry

    with translation.override(language):
        shown = (str(translation.gettext("Exceeded")), *(str(label) for label in LedgerEntry.Basis.labels))

    assert shown[0] == words[0]
    assert set(words[1:]) <= set(shown[1:])
