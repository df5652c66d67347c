"""URL slugs from bilingual names: Chinese becomes pinyin, everything ASCII-folded.

`slugify_text("华为 Mate 60 手机")` -> "hua-wei-mate-60-shou-ji". The one home of
the slug rule for products (and anything else that derives a slug from a name):
lower case ASCII letters, digits and single hyphens, at most `max_length`
characters, cut at a hyphen so no syllable is split. Text with nothing
sluggable (emoji only) gives "" and the caller falls back to an id-only URL.
"""

from django.utils.text import slugify
from pypinyin import Style, lazy_pinyin

MAX_SLUG_LENGTH = 80


def slugify_text(text: str, *, max_length: int = MAX_SLUG_LENGTH) -> str:
    text = (text or "")[:500]
    # each Chinese character becomes its own pinyin syllable; other runs pass through
    words = lazy_pinyin(text, style=Style.NORMAL, errors="default")
    slug = slugify(" ".join(words))
    if len(slug) > max_length:
        cut = slug[: max_length + 1]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else slug[:max_length]
    return slug.strip("-")
