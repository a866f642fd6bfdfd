from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "m4s.sales"
    label = "sales"
    verbose_name = _("Sales leads and pipeline")
