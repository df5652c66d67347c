"""Kept URL shapes (core.url_shapes) give exactly what reverse() gives, for every named URL
of the project, through Django templates' `{% url %}` and the Jinja2 pages' url()."""

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.test import override_settings
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from shopyard.core.url_shapes import kept_reverse, reverser

SAMPLES = {"id": ["7", "123456789012345678", 42], "slug": ["tea-set_2", "x"], "str": ["token-abc", "Z9"]}


def _named(resolver=None, prefix=""):
    """(namespaced name, [converter names]) of every named URL pattern."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _named(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            converters = list(getattr(entry.pattern, "converters", {}).values())
            yield f"{prefix}{entry.name}", [type(c).__name__ for c in converters]


def _kind(converter_class_name):
    return {"IdConverter": "id", "SlugConverter": "slug", "StringConverter": "str"}.get(converter_class_name, "id")


def test_every_named_url_is_what_reverse_gives():
    checked = 0
    for name, converters in _named():
        try:
            expected_shape = reverse(name, args=[SAMPLES[_kind(c)][0] for c in converters])
        except NoReverseMatch:
            continue  # a nested resolver's own arguments: not reachable by args alone
        assert kept_reverse(name, *[SAMPLES[_kind(c)][0] for c in converters]) == expected_shape
        for round_ in (1, 2):  # the second time from the kept shape
            args = [SAMPLES[_kind(c)][round_ % len(SAMPLES[_kind(c)])] for c in converters]
            assert kept_reverse(name, *args) == reverse(name, args=args), name
        checked += 1
    assert checked > 100


def test_arguments_outside_the_kept_kinds_are_reversed_by_django():
    # quoted characters, a slash, spaces: reverse() itself writes them (or refuses them)
    for odd in ("茶具", "a b", "x?y=1&z", "100%"):
        assert kept_reverse("channels:short_link", odd) == reverse("channels:short_link", args=[odd])
    with pytest.raises(NoReverseMatch):
        kept_reverse("storefront:category", "茶具")
    with pytest.raises(NoReverseMatch):
        kept_reverse("storefront:product", "a b")
    with pytest.raises(NoReverseMatch):
        kept_reverse("storefront:product", "12/3")
    # a slug where an id belongs is refused as reverse() refuses it, and so is a missing argument
    with pytest.raises(NoReverseMatch):
        kept_reverse("storefront:product", "tea")
    with pytest.raises(NoReverseMatch):
        kept_reverse("storefront:product")
    with pytest.raises(NoReverseMatch):
        kept_reverse("storefront:no_such_page")


def test_the_template_tag_writes_what_djangos_tag_writes():
    page = Template("{% url 'storefront:product' pid %}|{% url 'storefront:category' slug %}|"
                    "{% url 'storefront:category' slug=slug %}|{% url 'storefront:nowhere' as gone %}[{{ gone }}]"
                    "{% url 'storefront:cart' as cart %}{{ cart }}")
    out = page.render(Context({"pid": 5, "slug": "tea-set"}))
    assert out == (f"{reverse('storefront:product', args=[5])}|{reverse('storefront:category', args=['tea-set'])}|"
                   f"{reverse('storefront:category', kwargs={'slug': 'tea-set'})}|[]{reverse('storefront:cart')}")
    with pytest.raises(NoReverseMatch):
        Template("{% url 'storefront:nowhere' %}").render(Context())
    with pytest.raises(TemplateSyntaxError):
        Template("{% url %}")


def test_a_shape_is_kept_per_urlconf(settings):
    before = kept_reverse("storefront:cart")
    with override_settings(ROOT_URLCONF="tests.urls_elsewhere"):
        assert kept_reverse("storefront:cart") == "/elsewhere/cart/"
    assert kept_reverse("storefront:cart") == before == reverse("storefront:cart")


def test_a_reverser_gives_its_prefix_s_urls_and_finds_shapes_only_under_it():
    from django.urls import get_urlconf, set_script_prefix

    under_shop = reverser("/shop/", get_urlconf())
    # asked outside its prefix for a shape not kept yet: reverse()'s answer, and nothing kept
    assert under_shop("storefront:product_slug", 81, "tea") == reverse("storefront:product_slug", args=[81, "tea"])
    set_script_prefix("/shop/")
    try:
        assert under_shop("storefront:product_slug", 81, "tea") == reverse("storefront:product_slug", args=[81, "tea"])
        assert under_shop("storefront:product_slug", 81, "tea").startswith("/shop/p/81")
    finally:
        set_script_prefix("/")
