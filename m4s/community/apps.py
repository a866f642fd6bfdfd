from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "m4s.community"
    label = "community"
    verbose_name = _("Community")
