from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "m4s.insights"
    label = "insights"
    verbose_name = _("Insights")
