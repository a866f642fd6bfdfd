from django.db import migrations


class Migration(migrations.Migration):
    """New-energy vehicles: GB/T 32960 terminals, charging sessions and battery alarms."""

    dependencies = [("telematics", "0009_rescue")]

    operations: list = []
