from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "m4s.events"
    label = "events"
    verbose_name = _("Car-pal events")
