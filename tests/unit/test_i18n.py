"""Languages: every visible template text is marked, every catalog is complete, choices and phrases behave."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from smmpanel import i18n
from smmpanel.domain import messages
from smmpanel.domain.orders import OrderStatus
from smmpanel.domain.refills import RefillStatus
from smmpanel.domain.tickets import TicketStatus
from smmpanel.errors import Phrase, Refused
from smmpanel.i18n.texts import untranslated
from smmpanel.i18n.vocabulary import STATUSES
from smmpanel.i18n.wrap import wrap_file

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = (ROOT / "smmpanel" / "web" / "templates", ROOT / "smmpanel" / "notify" / "templates")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "translate": None}
KEYWORDS |= {"Refused": None, "redirect": (2,), "Phrase": None}  # as in the Makefile's `make messages`
PLACEHOLDER = re.compile(r"%\(\w+\)[sr]|%%")
TRANSLATED = [code for code in i18n.LANGUAGES if code != i18n.SOURCE]


def templates() -> list[Path]:
    return sorted(path for folder in TEMPLATE_DIRS for path in folder.rglob("*") if path.is_file())


def extracted() -> set[str]:
    """What ``make messages`` extracts, with the same babel.cfg and keywords."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)
    return {message if isinstance(message, str) else message[0] for _file, _line, message, *_ in found}


def test_every_visible_template_text_is_marked_for_translation() -> None:
    """New page? ``make wrap-templates`` wraps what this test names, then ``make messages``."""
    missing = [
        f"{path.relative_to(ROOT)}:{run.line}: {' '.join(run.text(path.read_text()).split())!r}"
        for path in templates()
        for run in untranslated(path)
    ]
    assert not missing, "texts outside _():\n" + "\n".join(missing)


def test_the_guard_sees_text_attributes_and_values_but_not_markup_code_or_the_brand(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        '<a href="/x" class="button">Go {{ user.name }} now</a> <input placeholder="Search here" name="q">\n'
        '<pre>curl -d key=KEY</pre><span>{{ _("Done") }}</span> {% trans %}Marked{% endtrans %} smmpanel\n'
        '<button data-confirm="Delete #{{ row.id }}?" title="{% if a %}Yes{% else %}No{% endif %}">×</button>\n'
    )
    found = {(run.in_attribute, run.text(page.read_text())) for run in untranslated(page)}
    assert found == {
        (False, "Go  now"),
        (True, "Search here"),
        (True, "Delete #?"),
        (True, "Yes"),
        (True, "No"),
    }


def test_wrapping_makes_one_message_per_sentence_with_named_placeholders(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        '<p class="x">\n  Order #{{ order.id }} costs {{ order.charge|money }} (100%)\n</p>'
        '<input placeholder="Say &quot;hi&quot;">{% block title %}Orders{% endblock %}\n'
    )
    assert wrap_file(page) == 3
    assert page.read_text() == (
        '<p class="x">\n  {{ _("Order #%(order_id)s costs %(charge)s (100%%)", order_id=order.id, '
        'charge=order.charge|money) }}\n</p><input placeholder="{{ _("Say &quot;hi&quot;") }}">'
        '{% block title %}{{ _("Orders") }}{% endblock %}\n'
    )
    assert untranslated(page) == []
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = lambda amount: f"{amount:.2f}"
    shown = env.from_string(page.read_text()).render(order={"id": 7, "charge": 1.5})
    assert "Order #7 costs 1.50 (100%)" in shown


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_extracted_message_has_a_translation_with_the_same_placeholders(code: str) -> None:
    with (i18n.LOCALE_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale=code)
    problems = []
    for msgid in sorted(extracted()):
        message = catalog.get(msgid)
        if message is None or not message.string or message.fuzzy:
            problems.append(f"untranslated: {msgid!r}")
        elif sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(str(message.string))):
            problems.append(f"placeholders differ: {msgid!r} → {message.string!r}")
    assert not problems, f"{code}: run `make messages` and translate:\n" + "\n".join(problems)


def test_the_catalogs_translate_and_fill_in_values() -> None:
    with i18n.speaking("ru") as language:
        assert (language.code, language.direction) == ("ru", "ltr")
        assert i18n.gettext("Orders") == "Заказы"
        assert i18n.translated(messages.quantity_below_min(50)) == "Количество меньше минимального: 50"
    with i18n.speaking("ar") as language:
        assert language.direction == "rtl"
        assert i18n.translate("Ticket #%(ticket_id)s", ticket_id=7) == "التذكرة #7"
    with i18n.speaking("xx") as language:
        assert language.code == "en"
        assert i18n.gettext("Orders") == "Orders"
    assert i18n.current_language().code == "en"  # the choice ended with the block


def test_a_phrase_is_the_english_text_for_the_api_and_keeps_its_template() -> None:
    refused = Refused("At most %(limit)s orders at once", limit=500)
    assert refused.message == "At most 500 orders at once" == str(refused)
    assert type(str(refused.message)) is str
    assert (refused.message.template, refused.message.values) == ("At most %(limit)s orders at once", {"limit": 500})
    assert Refused(messages.INCORRECT_SERVICE).message == "Incorrect service ID"
    assert Refused("100% sure").message == "100% sure"  # no values: the text as it is
    assert Phrase("%(name)r exists", name="x") == "'x' exists"


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("ru-RU,ru;q=0.9,en-US;q=0.8", "ru"),
        ("de-DE,de;q=0.9", None),
        ("de;q=1, tr;q=0.4, ar;q=0.6", "ar"),
        ("en;q=0, tr", "tr"),
        ("AR-eg", "ar"),
        ("ru;q=oops, tr;q=0.5", "tr"),
        ("", None),
        (None, None),
    ],
)
def test_accept_language_picks_the_best_language_the_panel_speaks(header: str | None, chosen: str | None) -> None:
    assert i18n.negotiate(header) == chosen


def test_every_status_the_pages_show_is_in_the_vocabulary() -> None:
    shown = {status.value for enum in (OrderStatus, RefillStatus, TicketStatus) for status in enum}
    assert shown <= set(STATUSES)
