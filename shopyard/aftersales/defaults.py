"""The reason list shoppers pick from when the database is new (the seed migration, the demo
and tests that flush the database call `ensure_default_reasons`)."""

ALL = []
REASONS = [
    # code, 中文, English, window, case types (empty: every type)
    ("quality", "质量问题", "Quality problem", "quality", ALL),
    ("wrong_item", "商家发错货", "Wrong item sent", "quality", ["refund_only", "return_refund", "exchange"]),
    ("damaged", "运输途中损坏", "Damaged in transit", "quality",
     ["refund_only", "return_refund", "exchange", "compensation"]),
    ("not_as_described", "与商品描述不符", "Not as described", "quality",
     ["refund_only", "return_refund", "exchange", "compensation"]),
    ("changed_mind", "不想要了（七天无理由）", "Changed my mind (no-reason return)", "changed_mind",
     ["refund_only", "return_refund", "exchange"]),
    ("not_received", "未收到货", "Not received", "quality", ["refund_only"]),
    ("price_protection", "价格保护（降价补差）", "Price protection (price dropped)", "price_protection",
     ["compensation"]),
    ("faulty", "使用中出现故障", "Stopped working", "warranty", ["repair", "exchange", "return_refund"]),
]


def ensure_default_reasons(model=None) -> None:
    """Add each default reason that is missing (an operator's edits are kept)."""
    if model is None:
        from .models import Reason as model
    for position, (code, name, name_en, window, kinds) in enumerate(REASONS):
        model.objects.get_or_create(code=code, defaults={
            "name": name, "name_en": name_en, "window": window, "kinds": kinds, "position": position * 10})
