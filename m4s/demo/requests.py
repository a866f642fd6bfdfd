"""Online-service requests demo: test-drive fleet and requests of every kind in every status."""


def build_requests_demo(*, staff, owners, stores) -> None:
    """Filled in by the requests area."""
