"""Pages of the telematics area: owner app (owner.py) and staff console (console.py)."""
