"""`reverse()` for the URLs pages write most, without resolving the same URL again.

A listing wrote about twenty URLs through `{% url %}` (the header, the category menu,
breadcrumbs, sub-categories) and a product page a dozen, each a full `reverse()`: a tenth
of rendering the page. A URL's shape (the text around its arguments) depends only on the
URL's name, the kinds of its arguments, the script prefix and the URLconf, so it is found
once with markers in place of the arguments and kept; the same arguments then give
exactly what `reverse()` gives. Only for arguments that every converter of this project
(`id`, `slug`, `str`) takes or refuses as a whole and that `reverse()` writes unquoted:
digits and slug characters. Anything else, keyword arguments and a shape `reverse()`
refuses go through `reverse()` itself, so its errors stay its own.
"""

import re

from django.core.signals import setting_changed
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

# digits (an id; `<id:>` takes up to 19) and slug characters
_ID = re.compile(r"[0-9]{1,18}\Z")
_SLUG = re.compile(r"[-a-zA-Z0-9_]*[a-zA-Z_-][-a-zA-Z0-9_]*\Z")
_SHAPES: dict = {}


def _shape(name: str, kinds: tuple) -> tuple:
    """The pieces of `name`'s URL around its arguments, from one reverse() with markers of
    the arguments' kinds (digits for an id, letters for a slug)."""
    markers = [f"98765432{i}" if kind == "id" else f"zq{i}qz" for i, kind in enumerate(kinds)]
    path = reverse(name, args=markers)
    pieces = []
    for marker in markers:
        before, path = path.split(marker, 1)
        pieces.append(before)
    pieces.append(path)
    return tuple(pieces)


def kept_reverse(name: str, *args) -> str:
    """`reverse(name, args=args)`, from the URL's kept shape when the arguments allow it."""
    return _kept(get_script_prefix(), get_urlconf(), name, args)


def reverser(prefix: str, urlconf):
    """kept_reverse for a page that renders under `prefix` and `urlconf` (a Jinja2 template
    compiled for them: storefront.jinja_env.get_template), reading them once rather than for
    each URL: the two context-local reads were three fifths of a kept URL's cost. A shape
    not kept yet is found only under them (else reverse() answers, as for other arguments)."""

    def url(name: str, *args) -> str:
        return _kept(prefix, urlconf, name, args)

    return url


def _kept(prefix, urlconf, name, args) -> str:
    texts = [str(a) for a in args]
    kinds = tuple("id" if _ID.match(t) else "slug" if _SLUG.match(t) else None for t in texts)
    if None in kinds:
        return reverse(name, args=args)
    key = (prefix, urlconf, name, kinds)
    pieces = _SHAPES.get(key)
    if pieces is None:
        if (get_script_prefix(), get_urlconf()) != (prefix, urlconf):
            return reverse(name, args=args)  # a shape is only ever found under its own prefix and URLconf
        try:
            pieces = _shape(name, kinds)
        except NoReverseMatch:
            return reverse(name, args=args)  # its own answer (or error) for these arguments
        _SHAPES[key] = pieces
    if not texts:
        return pieces[0]
    out = [pieces[0]]
    for text, piece in zip(texts, pieces[1:], strict=True):
        out.append(text)
        out.append(piece)
    return "".join(out)


def _forget(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":  # a test's own URLconf: Django clears its resolvers too
        _SHAPES.clear()


setting_changed.connect(_forget)
