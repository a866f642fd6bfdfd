from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "m4s.catalogue"
    label = "catalogue"
    verbose_name = _("New-car catalogue and finance products")
