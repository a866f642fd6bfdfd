"""HTML → PDF with WeasyPrint, for the monthly service report.

The HTML is our own template; it names its fonts in the print CSS ("Noto Sans CJK SC" for
Chinese, "Noto Sans CJK KR" for Korean, both in the fonts-noto-cjk package that
scripts/install.sh installs), so Chinese and Korean text render with real glyphs and stay
searchable and copyable in the PDF's text layer. Nothing is fetched while rendering: the URL
fetcher refuses every URL except inline `data:` ones (no network, no file reads), so text from
the database can never make the renderer read a local file or call out.
"""

from dataclasses import dataclass

from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher


def _no_fetch() -> URLFetcher:
    """Inline `data:` URLs only; WeasyPrint refuses every other scheme (http, file ...)."""
    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)


@dataclass(frozen=True)
class Rendered:
    data: bytes
    pages: int


def render_pdf(html: str, *, title: str = "") -> Rendered:
    """The PDF of an HTML document (print CSS inside it), and its page count."""
    document = HTML(string=html, url_fetcher=_no_fetch(), base_url="about:blank").render(
        font_config=FontConfiguration()
    )
    if title:
        document.metadata.title = title
    data = document.write_pdf()
    return Rendered(data=data, pages=len(document.pages))
