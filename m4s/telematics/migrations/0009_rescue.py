from django.db import migrations


class Migration(migrations.Migration):
    """Rescue end to end: the SOS alarm opens a case; tow partners, insurers, dispatch and
    first notice of loss."""

    dependencies = [("telematics", "0008_forecast_band")]

    operations: list = []
