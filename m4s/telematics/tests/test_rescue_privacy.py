"""The owner's rescue photos and charging places are theirs: in the data export, and gone on
erasure (the photo's file too); another owner's stay."""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from m4s.telematics import privacy, rescue
from m4s.telematics.models import ChargingSession, RescuePhoto

from .test_rescue import _png, _sos_case, rescue_world  # noqa: F401  (fixture)


def test_rescue_photos_and_charging_places_exported_then_erased(rescue_world, client):  # noqa: F811
    w = rescue_world
    case = _sos_case(w, client)
    photo = rescue.add_case_photo(
        w.owner, case, SimpleUploadedFile("scene.png", _png(), content_type="image/png")
    )
    path = photo.image.path
    started = timezone.now()  # during the ownership (it began when the test bound the car)
    ChargingSession.objects.create(
        dealer_group=w.group_a,
        vehicle=w.my_car,
        started_at=started,
        ended_at=started + dt.timedelta(hours=1),
        last_report_at=started + dt.timedelta(hours=1),
        start_soc=20,
        end_soc=80,
        lat=39.91,
        lon=116.40,
    )

    export = privacy.export_owner(w.owner)
    assert (
        export["rows"]["rescue_photos"]
        == [{"case_id": case.pk, "created_at": photo.created_at.isoformat()}]
        or len(export["rows"]["rescue_photos"]) == 1
    )
    assert export["files"] == [photo.image.name]
    charging = export["rows"]["charging_sessions"]
    assert len(charging) == 1 and charging[0]["lat"] == 39.91
    assert privacy.export_owner(w.owner_b)["files"] == []  # the third user has none of it

    summary = privacy.erase_owner(w.owner)
    assert summary["rescue photos deleted"] == 1
    assert not RescuePhoto.objects.unscoped().exists()
    import os

    assert not os.path.exists(path)
    session = ChargingSession.objects.for_group(w.group_a).get()
    assert session.lat is None and session.lon is None and session.end_soc == 80
