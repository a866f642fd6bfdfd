"""Store services on request: the models."""
