"""Pages of the loyalty area: owner app (owner.py) and staff console (console.py)."""
