"""The reason list shoppers pick from, seeded once; operators edit it in the admin."""

from django.db import migrations


def seed(apps, schema_editor):
    from shopyard.aftersales.defaults import ensure_default_reasons

    ensure_default_reasons(apps.get_model("aftersales", "Reason"))


class Migration(migrations.Migration):
    dependencies = [("aftersales", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
