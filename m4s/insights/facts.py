"""Nightly facts (its part fills this module)."""


def nightly() -> None:
    raise NotImplementedError
