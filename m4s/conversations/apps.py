from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "m4s.conversations"
    label = "conversations"
    verbose_name = _("Conversations")
