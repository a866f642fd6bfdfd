"""The back office's preview of a reminder rule: its title and text in every language, filled in
with a sample reminder of its kind (rules.preview), and the placeholders a template may use.
Read-only; the rule admin shows it as a field of the change page."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from m4s.care.rules import PLACEHOLDERS, preview


def rule_preview_html(rule) -> SafeString:
    """An HTML block: one title and text per language, for the back office."""
    if rule is None or not getattr(rule, "kind", ""):
        return SafeString("")
    languages = []
    for code, name in settings.LANGUAGES:
        try:
            title, body = preview(rule, code)
        except (KeyError, TypeError, ValueError):
            title, body = "", ""
        languages.append({"code": code, "name": name, "title": title, "body": body})
    return SafeString(
        render_to_string(
            "care/admin/_preview.html",
            {
                "languages": languages,
                "placeholders": [f"%({p})s" for p in PLACEHOLDERS.get(rule.kind, ())],
            },
        )
    )
