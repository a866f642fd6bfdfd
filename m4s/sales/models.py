"""Sales leads and pipeline: the models."""
