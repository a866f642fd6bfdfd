"""New-car catalogue and finance products: the models."""
