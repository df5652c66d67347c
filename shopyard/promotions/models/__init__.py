"""Promotion rows, one module per family of kinds (the pipeline sees them only as offers)."""
