"""Rich product descriptions: seller HTML cut down to an allow-list by nh3.

Sellers write headings, paragraphs, lists, tables and images; shoppers must
never receive their scripts, styles, event handlers or foreign schemes. nh3
(a binding of the Rust `ammonia` sanitiser) parses the HTML as a browser
would and keeps only what the allow-list names, so no filtering is written
by hand. The catalogue services sanitise on write; the product page
sanitises again on render, so a row written before this rule (or by a path
that skipped the service) is still safe to show.
"""

from urllib.parse import unquote

import nh3
from django.conf import settings
from django.utils.html import linebreaks
from django.utils.safestring import SafeString, mark_safe

TAGS = {
    "h2", "h3", "h4", "p", "br", "hr", "strong", "b", "em", "i", "u", "s", "blockquote",
    "ul", "ol", "li", "a", "img", "figure", "figcaption",
    "table", "thead", "tbody", "tr", "th", "td", "caption",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https"}


def _image_source_allowed(value: str) -> bool:
    """Images load from the web over http(s) or from our own media storage,
    never from data:, javascript: or a relative path elsewhere on the site."""
    media = settings.MEDIA_URL or ""
    lowered = unquote(value.strip()).lower()
    if lowered.startswith(("http://", "https://")):
        return True
    if not media.startswith("/") or media.startswith("//") or ".." in lowered or "\\" in lowered:
        return False
    return lowered.startswith(media.lower())


def _attribute_filter(tag: str, attr: str, value: str):
    if tag == "img" and attr == "src" and not _image_source_allowed(value):
        return None
    return value


def sanitize(html: str) -> str:
    """The seller's HTML reduced to the allow-list (idempotent)."""
    if not html:
        return ""
    return nh3.clean(
        html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
        attribute_filter=_attribute_filter, link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render(text: str) -> SafeString:
    """Markup for the product page, sanitised again before it is marked safe;
    plain text (older descriptions, no tags) keeps its line breaks."""
    clean = sanitize(text).strip()
    if clean and "<" not in clean:
        clean = linebreaks(clean)  # nh3 has already escaped the text
    return mark_safe(clean)  # noqa: S308 - nh3 output holds only the allow-list
