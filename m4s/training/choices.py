from django.db import models
from django.utils.translation import gettext_lazy as _


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")


class AttemptStatus(models.TextChoices):
    OPEN = "open", _("In progress")
    FINISHED = "finished", _("Finished")
    EXPIRED = "expired", _("Time ran out")


class AssignmentState(models.TextChoices):
    """What a staff member's assignment looks like to them (derived, never stored)."""

    TODO = "todo", _("To do")
    IN_PROGRESS = "in_progress", _("In progress")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Not passed yet")
    LOCKED = "locked", _("No attempts left")
