"""Bulk catalogue: a shop's products imported and exported as CSV or XLSX
files (one row per SKU), and many SKUs' prices and stock edited at once.

Why here: catalog already sets stock through inventory's services and
inventory imports nothing of catalog, so the dependency keeps pointing one way
(console and the API call this module; this module calls
`inventory.services.set_stock_many`, never the stock tables).

A file is read and checked whole before anything is written. `check_file`
(the dry run) returns every row's errors (row number as the spreadsheet shows
it, column, reason) and what would be created or updated; `import_file` writes
all of it in one transaction with bulk statements, or nothing. The console's
confirmation imports exactly the checked file: it is kept as a
`CatalogImport` behind a token (its shop, its uploader, IMPORT_TTL, once).

Which product a row belongs to: rows sharing a `product_key` are one product.
A group whose SKU codes exist in the shop updates their product; a group of
new codes creates a product. SKU codes are unique on the whole platform, and
a code of another shop is never looked at or changed: it is "already used".
The format is described in docs/catalog-import.md.
"""

from .apply import ImportRefused, confirm_import, import_file, refresh_price_ranges, stage_import
from .check import Group, Plan, RowError, SkuRow, check_file
from .edit import edit_skus, shop_skus
from .files import (
    COLUMN_LABELS,
    COLUMNS,
    FORMATS,
    HEADER_ALIASES,
    IMPORT_TTL,
    MAX_EDIT_ITEMS,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    REQUIRED,
    cell_text,
    export_file,
    export_rows,
    read_file,
)

__all__ = [
    "COLUMN_LABELS", "COLUMNS", "FORMATS", "HEADER_ALIASES", "IMPORT_TTL", "MAX_EDIT_ITEMS", "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS", "REQUIRED", "Group", "ImportRefused", "Plan", "RowError", "SkuRow", "cell_text",
    "check_file", "confirm_import", "edit_skus", "export_file", "export_rows", "import_file", "read_file",
    "refresh_price_ranges", "shop_skus", "stage_import",
]
