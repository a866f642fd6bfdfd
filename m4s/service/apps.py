from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "m4s.service"
    label = "service"
    verbose_name = _("Service")
