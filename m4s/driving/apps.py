from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "m4s.driving"
    label = "driving"
    verbose_name = _("Trips and driving score")
