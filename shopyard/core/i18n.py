from django.utils.translation import get_language


def is_english() -> bool:
    return (get_language() or "en").lower().startswith("en")


def localized(obj, field: str) -> str:
    """Content is stored in Chinese (`field`) and English (`field_en`); pick by the active language."""
    if is_english():
        value = getattr(obj, f"{field}_en", "")
        if value:
            return value
    return getattr(obj, field)


def localizer():
    """`localized` for many objects at once (a menu's categories): the active language is
    read once, not once per object; each object still gets exactly what `localized` gives."""
    if not is_english():
        return getattr

    def english(obj, field: str) -> str:
        return getattr(obj, f"{field}_en", "") or getattr(obj, field)

    return english
