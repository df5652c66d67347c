"""The reason list shoppers pick from, seeded once; operators edit it in the admin."""

from django.db import migrations

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


def seed(apps, schema_editor):
    Reason = apps.get_model("aftersales", "Reason")
    for position, (code, name, name_en, window, kinds) in enumerate(REASONS):
        Reason.objects.get_or_create(code=code, defaults={
            "name": name, "name_en": name_en, "window": window, "kinds": kinds, "position": position * 10})


class Migration(migrations.Migration):
    dependencies = [("aftersales", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
