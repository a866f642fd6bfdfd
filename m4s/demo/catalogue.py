"""New-car catalogue demo: brands, models, trims with prices, colours and pictures; finance products; insurers."""


def build_catalogue_demo(*, staff, owners, stores) -> None:
    """Filled in by the catalogue area."""
