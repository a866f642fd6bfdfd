"""Sales demo: two months of leads across the stages so the board, pipeline and forecast are alive."""


def build_sales_demo(*, staff, owners, stores) -> None:
    """Filled in by the sales area."""
