"""Load China's statutory days of the years published when this was written (up to 2026) from
the chinesecalendar library; later years come with `m4s sync-holidays`. Frozen at 2026 so that a
newer library never changes what a fresh database (or a test run) starts with."""

from django.db import migrations

UNTIL_YEAR = 2026
CODES = {
    "new_years_day",
    "spring_festival",
    "tomb_sweeping_day",
    "labour_day",
    "dragon_boat_festival",
    "mid_autumn_festival",
    "national_day",
    "anti_fascist_70th_day",
}


def load(apps, schema_editor):
    try:
        from chinese_calendar import constants
    except ImportError:  # the sync command loads them later
        return
    StatutoryDay = apps.get_model("org", "StatutoryDay")
    names = {h.value: h.name for h in constants.Holiday}
    rows = []
    for kind, days in (("holiday", constants.holidays), ("workday", constants.workdays)):
        for date, name in days.items():
            if date.year <= UNTIL_YEAR:
                code = names.get(name, "")
                rows.append(
                    StatutoryDay(
                        date=date,
                        kind=kind,
                        holiday=code if code in CODES else "other",
                        source="library",
                    )
                )
    StatutoryDay.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)


def unload(apps, schema_editor):
    apps.get_model("org", "StatutoryDay").objects.filter(source="library").delete()


class Migration(migrations.Migration):
    dependencies = [("org", "0004_business_time")]

    operations = [migrations.RunPython(load, unload)]
