from django.db import models
from django.utils.translation import gettext_lazy as _


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class EmergencyKind(models.TextChoices):
    RESCUE = "rescue", _("Roadside rescue")
    INSURANCE = "insurance", _("Insurance claims")
    HOTLINE = "hotline", _("Store hotline")
    POLICE = "police", _("Police")
    AMBULANCE = "ambulance", _("Ambulance")
    TRAFFIC = "traffic", _("Traffic accident")


class StatutoryKind(models.TextChoices):
    """A day China's State Council publishes: a day off, or a make-up working day (调休)."""

    HOLIDAY = "holiday", _("Statutory holiday")
    WORKDAY = "workday", _("Make-up working day")


class StatutoryHoliday(models.TextChoices):
    """Which festival a statutory day belongs to (the codes of the chinesecalendar library)."""

    NEW_YEARS_DAY = "new_years_day", _("New Year's Day")
    SPRING_FESTIVAL = "spring_festival", _("Spring Festival")
    TOMB_SWEEPING_DAY = "tomb_sweeping_day", _("Tomb-sweeping Day")
    LABOUR_DAY = "labour_day", _("Labour Day")
    DRAGON_BOAT_FESTIVAL = "dragon_boat_festival", _("Dragon Boat Festival")
    MID_AUTUMN_FESTIVAL = "mid_autumn_festival", _("Mid-autumn Festival")
    NATIONAL_DAY = "national_day", _("National Day")
    ANTI_FASCIST_70TH_DAY = "anti_fascist_70th_day", _("Anti-Fascist War Victory Day")
    OTHER = "other", _("Other")


class StatutorySource(models.TextChoices):
    LIBRARY = "library", _("Published calendar")
    BACK_OFFICE = "back_office", _("Edited in the back office")
