"""Script in rich text is removed: known XSS payloads leave nothing executable behind."""

import re

import pytest

from m4s.content import services
from m4s.content.choices import Module
from m4s.content.sanitise import clean_html

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    '<img src="javascript:alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">click</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "<math><mtext><script>alert(1)</script></mtext></math>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<div style="width: expression(alert(1))">x</div>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<iframe src="https://evil.example"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    "<input onfocus=alert(1) autofocus>",
    '<body onload="alert(1)">',
    '<details open ontoggle="alert(1)">',
    '<video><source onerror="alert(1)"></video>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    "<!--<img src=x onerror=alert(1)>-->",
    '<p onclick="alert(1)" onmouseover="alert(1)">x</p>',
    '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>',
    '"><script>alert(1)</script>',
    "<img src=`x` onerror=alert(1)>",
]

DANGER = re.compile(
    r"<\s*(script|iframe|object|embed|svg|math|style|form|input|meta|link|base|body|video)"
    r"|\son\w+\s*=|javascript:|vbscript:|data:text|expression\(|style=|srcdoc",
    re.IGNORECASE,
)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_known_payloads_are_defused(payload):
    cleaned = clean_html(f"<p>before</p>{payload}<p>after</p>")
    assert not DANGER.search(cleaned), cleaned
    assert "<p>before</p>" in cleaned


def test_formatting_survives():
    html = (
        "<h2>Title</h2><p><strong>bold</strong> <em>it</em></p><ul><li>one</li></ul>"
        '<a href="https://m4s.example/x">link</a>'
    )
    cleaned = clean_html(html)
    for part in ("<h2>Title</h2>", "<strong>bold</strong>", "<li>one</li>"):
        assert part in cleaned
    assert 'href="https://m4s.example/x"' in cleaned
    assert 'rel="noopener noreferrer nofollow"' in cleaned


@pytest.mark.django_db
def test_services_store_sanitised_bodies_only(pub):
    body = "".join(PAYLOADS)
    item = services.create_item(
        pub.admin_a,
        module=Module.NEW_CARS,
        translations={"en": {"title": "<b>T</b>", "body_html": body}, "ko": {"title": "K"}},
    )
    for t in item.translations.all():
        assert not DANGER.search(t.body_html)
    services.update_item(pub.admin_a, item, translations={"en": {"title": "T", "body_html": body}})
    assert not DANGER.search(item.translations.get(language="en").body_html)
    # versions keep the sanitised text too
    for version in item.versions.all():
        for text in version.snapshot["translations"].values():
            assert not DANGER.search(text["body_html"])
