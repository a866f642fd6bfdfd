"""Starter set-ups a dealer group begins with: the service catalogue and workshop
(`starters.service`) and the loyalty programme (`starters.loyalty`)."""
