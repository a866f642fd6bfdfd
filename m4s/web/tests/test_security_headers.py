"""Every response carries the Content-Security-Policy and the Permissions-Policy; the icons are
SVG (no emoji that a machine without an emoji font shows as boxes); /favicon.ico exists."""

import re

import pytest

from m4s.web import icons
from m4s.web.navigation import GROUPS

EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u26ff\u2300-\u23ff\ufe0f]")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/app/login/", "/api/v1/openapi.json", "/admin/", "/static/m4s/css/m4s.css", "/x/"],
)
def test_every_response_carries_csp_and_permissions_policy(client, url):
    r = client.get(url)
    csp = r["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "img-src 'self' data: blob:",
    ):
        assert directive in csp, (url, directive)
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    policy = r["Permissions-Policy"]
    assert "geolocation=(self)" in policy and "camera=(self)" in policy
    assert "microphone=()" in policy and "payment=()" in policy


@pytest.mark.django_db
def test_pages_have_no_inline_script_and_no_emoji_icons(client, world):
    from m4s.web.tests.test_owner_app import sign_in

    sign_in(client, world.owner)
    for url in ("/app/", "/app/sos/", "/app/g/service/", "/app/login/"):
        page = client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), url
        assert not re.search(r"\son[a-z]+=", page), url
        assert not EMOJI.search(page), (url, EMOJI.findall(page))
        assert '<svg class="i ' in page, url
    client.force_login(world.advisor_a)
    page = client.get("/console/").content.decode()
    assert not EMOJI.search(page) and '<svg class="i ' in page


def test_navigation_icons_are_vendored_svgs():
    for group in GROUPS:
        assert (icons.LUCIDE_DIR / f"{group.icon}.svg").is_file(), group.key
    assert (icons.LUCIDE_DIR / "LICENSE").is_file()
    assert icons.icon_name_for("🎁", "medal") == "gift"
    assert icons.icon_name_for("☕️", "gift") == "coffee"
    assert icons.icon_name_for("unknown", "medal") == "medal"


@pytest.mark.django_db
def test_favicon_and_manifest_icons(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r["Content-Type"] == "image/x-icon"
    assert b"".join(r.streaming_content)[:4] == b"\x00\x00\x01\x00"  # ICO header
    manifest = client.get("/app/manifest.webmanifest").json()
    for entry in manifest["icons"]:
        assert client.get(entry["src"]).status_code == 200, entry
    assert {e.get("purpose", "any") for e in manifest["icons"]} == {"any", "maskable"}
    assert any(e["type"] == "image/svg+xml" for e in manifest["icons"])


def test_every_icon_a_template_names_is_vendored():
    from pathlib import Path

    m4s_root = Path(icons.__file__).resolve().parent.parent  # every app's templates
    names = set()
    for path in m4s_root.glob("*/templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r'\{% icon(?:_for [^ ]+)? "([a-z0-9-]+)"', text))
        assert not EMOJI.search(text), (path, EMOJI.findall(text))
    assert len(names) > 40
    # icons named in code: the owner app's groups and every online-service request kind
    from m4s.requests.kinds import all_kinds
    from m4s.web.navigation import GROUPS

    names |= {g.icon for g in GROUPS} | {k.icon for k in all_kinds()}
    missing = sorted(n for n in names if not (icons.LUCIDE_DIR / f"{n}.svg").is_file())
    assert missing == []
