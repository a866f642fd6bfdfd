"""Writes of the complaints area (being written)."""


def on_survey_answered(event) -> None:  # placeholder until the receiver lands
    return None
