"""Online-service requests: the models."""
