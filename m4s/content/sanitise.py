"""Rich text of content items, cleaned with nh3 (the Rust `ammonia` sanitiser): an allow-list of
formatting tags and attributes; scripts, event handlers, styles, frames, forms, SVG/MathML and
any URL scheme other than http(s)/mailto/tel are removed. Every body is cleaned when it is
saved (services), so the stored HTML is safe to render with `|safe`."""

import nh3

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "sub",
    "sup",
    "small",
    "mark",
    "blockquote",
    "code",
    "pre",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "figure",
    "figcaption",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


def clean_html(html: str) -> str:
    """`html` with only the allowed formatting left (links open safely: rel=noopener)."""
    if not html:
        return ""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        clean_content_tags={"script", "style"},
    ).strip()


def plain_text(html: str) -> str:
    """The words of `html` without any markup (for search and summaries)."""
    return nh3.clean(html or "", tags=set(), clean_content_tags={"script", "style"}).strip()
