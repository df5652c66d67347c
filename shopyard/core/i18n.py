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
