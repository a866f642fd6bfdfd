"""Text in the reader's language, for the two kinds of words the system stores.

1. System text (points reasons, inbox messages, timeline lines): stored as its English source
   text (the gettext msgid, marked with `gettext_noop`) plus parameters, and translated with
   gettext when it is read, so a reader who switches language sees it in the new one.
   `text(msgid, **params)` builds the JSON value; `render(value, fallback)` reads it. A parameter
   may itself be a `text(...)` or a catalogue `name_of(obj)` snapshot.

2. Catalogue names and descriptions (service packages, rewards, tiers ...) that people type in
   the back office: the source field (`name`) keeps what was typed; a `TranslationsField`
   (`name_i18n`, JSON `{"zh-hans": ..., "en": ..., "ko": ...}`) holds the translations, edited
   in the back office as one input per language. `obj.t("name")` (or `{{ obj|tr:"name" }}` in a
   template, `translated(obj, "name")` in code) gives the reader's language, falling back to the
   source field when a translation is missing.

Rows written before this existed have no JSON: they render their stored text unchanged.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext


def language_codes() -> list[str]:
    return [code for code, _label in settings.LANGUAGES]


def _reader_languages() -> list[str]:
    lang = (translation.get_language() or settings.LANGUAGE_CODE).lower()
    out = [lang]
    if lang.startswith("zh") and "zh-hans" not in out:
        out.append("zh-hans")
    base = lang.split("-")[0]
    if base not in out:
        out.append(base)
    return out


def pick(translations: Any, fallback: str = "") -> str:
    """The translation for the reader's language, else `fallback` (the source text)."""
    if isinstance(translations, dict):
        for code in _reader_languages():
            value = translations.get(code)
            if isinstance(value, str) and value.strip():
                return value
    return fallback


def translated(obj: Any, field: str = "name") -> str:
    """`obj.<field>` in the reader's language (from `<field>_i18n`), else the source field."""
    if obj is None:
        return ""
    source = getattr(obj, field, "") or ""
    return pick(getattr(obj, f"{field}_i18n", None), source)


class Translatable:
    """Model mixin: `obj.t("name")` is the name in the reader's language."""

    def t(self, field: str = "name") -> str:
        return translated(self, field)


# --- system text: source text + parameters ------------------------------------------------------
def text(msgid: str, **params: Any) -> dict[str, object]:
    """A piece of system text to store: its English source text (mark it with gettext_noop at
    the call site so it reaches the catalogues) and the values of its placeholders."""
    value: dict[str, object] = {"t": msgid}
    if params:
        value["p"] = {k: _storable(v) for k, v in params.items()}
    return value


def name_of(obj: Any, field: str = "name") -> dict[str, object]:
    """A snapshot of a catalogue name in every language, for use as a parameter or on its own
    (a points reason that is a rule's name)."""
    return {
        "n": getattr(obj, field, "") or "",
        "i18n": dict(getattr(obj, f"{field}_i18n", None) or {}),
    }


def _storable(value: Any) -> Any:
    if isinstance(value, Promise):  # gettext_lazy("...") (a choice label): keep its msgid
        args: tuple[Any, ...] = getattr(value, "_args", ())
        return {"t": args[0]} if len(args) == 1 and isinstance(args[0], str) else str(value)
    if isinstance(value, dict | str | int | bool) or value is None:
        return value
    if isinstance(value, float):
        return value
    return str(value)


def is_text(value: Any) -> bool:
    """A stored text (`text`, `name_of`) or a non-empty list of them (shown joined by commas)."""
    if isinstance(value, list):
        return bool(value) and all(is_text(v) for v in value)
    return isinstance(value, dict) and ("t" in value or "n" in value)


def render(value: Any, fallback: str = "") -> str:
    """System text in the active language. Anything unreadable falls back to `fallback` (the
    text stored when the row was written), never an exception."""
    if isinstance(value, str):
        return value
    if not is_text(value):
        return fallback
    if isinstance(value, list):
        return ", ".join(render(v, "") for v in value)
    try:
        if "n" in value:
            return pick(value.get("i18n"), str(value.get("n") or fallback))
        return render_source(value["t"], value.get("p"))
    except (KeyError, TypeError, ValueError, AttributeError):
        return fallback


def render_source(msgid: str, params: dict[str, Any] | None = None) -> str:
    """gettext(msgid) % params, with parameters that are themselves text rendered first."""
    translated_text = gettext(msgid)
    if not params:
        return translated_text
    values = {k: render(v, str(v)) if isinstance(v, dict) else v for k, v in params.items()}
    for template in (translated_text, msgid):
        try:
            return template % values
        except (KeyError, TypeError, ValueError):
            continue
    return translated_text


def render_in(language: str | None, value: Any, fallback: str = "") -> str:
    with translation.override(language or settings.LANGUAGE_CODE):
        return render(value, fallback)


# --- catalogue translations in the back office ---------------------------------------------------
class TranslationsWidget(forms.MultiWidget):
    """One text input per language, each labelled (placeholder and aria-label) with its name."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widgets: dict[str, forms.Widget | type[forms.Widget]] = {
            code: forms.TextInput(
                attrs={"lang": code, "placeholder": label, "aria-label": label, "size": 40}
            )
            for code, label in settings.LANGUAGES
        }
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[str]:
        value = value if isinstance(value, dict) else {}
        return [value.get(code, "") for code in language_codes()]


class TranslationsFormField(forms.MultiValueField):
    """One text input per language; empty ones are left out (the source field is the fallback)."""

    def __init__(self, *, max_length: int | None = None, **kwargs: Any) -> None:
        for key in ("encoder", "decoder", "show_hidden_initial"):
            kwargs.pop(key, None)
        kwargs["required"] = False
        fields = [forms.CharField(required=False, max_length=max_length) for _c in language_codes()]
        super().__init__(fields, widget=TranslationsWidget, require_all_fields=False, **kwargs)

    def compress(self, data_list: Any) -> dict[str, str]:
        return {
            code: value.strip()
            for code, value in zip(language_codes(), data_list or [], strict=False)
            if value and value.strip()
        }

    def has_changed(self, initial: Any, data: Any) -> bool:
        initial = initial if isinstance(initial, dict) else {}
        if not isinstance(data, dict):
            data = self.compress(data)
        return bool(data != {k: v for k, v in initial.items() if v})


class TranslationsField(models.JSONField):
    """`{"zh-hans": ..., "en": ..., "ko": ...}` for one translatable field; `max_length` limits
    each translation like the source field."""

    def __init__(self, *args: Any, max_length: int | None = None, **kwargs: Any) -> None:
        self.text_max_length = max_length
        kwargs.setdefault("default", dict)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.text_max_length is not None:
            kwargs["max_length"] = self.text_max_length
        if kwargs.get("default") is dict:
            del kwargs["default"]
        if kwargs.get("blank") is True:
            del kwargs["blank"]
        return name, path, args, kwargs

    def formfield(self, **kwargs: Any) -> Any:
        for key in ("form_class", "encoder", "decoder"):
            kwargs.pop(key, None)
        return models.Field.formfield(
            self, form_class=TranslationsFormField, max_length=self.text_max_length, **kwargs
        )
