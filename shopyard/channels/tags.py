"""The one home of what a channel tag is.

A tag is utm_source (the channel: wechat, weibo, douyin, email …), utm_medium and
utm_campaign from the query string, plus utm_id when the visit came through a
short link. Values are untrusted: control characters are dropped, whitespace is
collapsed, and each value is cut to its column's length (a forged or over-long
tag is stored shortened, never refused with an error and never a 500). A visit
without a usable utm_source carries no tag.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from .models import CAMPAIGN_MAX, CODE_MAX, MEDIUM_MAX, SOURCE_MAX

CODE_RE = re.compile(rf"^[A-Za-z0-9]{{4,{CODE_MAX}}}$")
# how many characters of a raw value are looked at (the rest is never read)
RAW_MAX = 500


@dataclass(frozen=True)
class Tag:
    source: str
    medium: str = ""
    campaign: str = ""
    link_code: str = ""

    def query(self) -> str:
        """The tag as a query string for a share link."""
        params = [("utm_source", self.source)]
        if self.medium:
            params.append(("utm_medium", self.medium))
        if self.campaign:
            params.append(("utm_campaign", self.campaign))
        if self.link_code:
            params.append(("utm_id", self.link_code))
        return urlencode(params)


def clean_value(raw, limit: int) -> str:
    text = str(raw or "")[:RAW_MAX]
    text = "".join(ch for ch in text if ch.isprintable())
    return " ".join(text.split())[:limit].strip()


def from_query(params) -> Tag | None:
    """The tag a request's GET parameters carry, or None."""
    if "utm_source" not in params:
        return None
    source = clean_value(params.get("utm_source"), SOURCE_MAX)
    if not source:
        return None
    code = str(params.get("utm_id") or "")[:RAW_MAX]
    return Tag(
        source=source,
        medium=clean_value(params.get("utm_medium"), MEDIUM_MAX),
        campaign=clean_value(params.get("utm_campaign"), CAMPAIGN_MAX),
        link_code=code if CODE_RE.match(code) else "",
    )


def tagged_url(path: str, tag: Tag) -> str:
    return f"{path}{'&' if '?' in path else '?'}{tag.query()}"
