"""(filled by its part; see models/__init__.py)"""

__all__: list[str] = []
