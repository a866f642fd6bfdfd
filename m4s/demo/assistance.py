"""Store services demo: rental fleet, body-shop estimates, inspection and violation agency, new-driver courses, designated drivers."""


def build_assistance_demo(*, staff, owners, stores) -> None:
    """Filled in by the assistance area."""
