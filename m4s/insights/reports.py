"""The monthly service report (its part fills this module)."""


def send_due() -> None:
    raise NotImplementedError
