"""A small catalogue for tests (other areas' tests may use it too): a brand, a published model
with two trims, a colour and a picture, an unpublished model, a finance product and an insurer."""

import io
from decimal import Decimal
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from m4s.catalogue import services
from m4s.catalogue.choices import BodyType, Drive, EnergyType


def png_upload(name="car.png", colour=(30, 90, 160)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (64, 40), colour).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def make_catalogue(admin, *, prefix="Aurora") -> SimpleNamespace:
    c = SimpleNamespace()
    c.brand = services.save_brand(admin, name=f"{prefix} Motors", name_i18n={"zh-hans": "极光"})
    c.model = services.save_model(
        admin,
        brand=c.brand,
        name=f"{prefix} EV5",
        name_i18n={"zh-hans": f"{prefix} 电动5"},
        body_type=BodyType.SUV,
        energy_type=EnergyType.BEV,
        tagline="Quiet and quick",
        tagline_i18n={"zh-hans": "安静又迅捷"},
    )
    c.trim = services.save_trim(
        admin,
        c.model,
        name="Standard",
        msrp=Decimal("199900.00"),
        dealer_price=Decimal("189900.00"),
        power_kw=150,
        electric_range_km=520,
        battery_kwh=Decimal("72.5"),
        drive=Drive.RWD,
    )
    c.trim_long = services.save_trim(
        admin,
        c.model,
        name="Long range",
        msrp=Decimal("239900.00"),
        dealer_price=Decimal("239900.00"),
        power_kw=230,
        electric_range_km=650,
        drive=Drive.AWD,
    )
    c.colour = services.save_colour(admin, c.model, name="Glacier white", hex="#F4F6F8")
    services.set_cover(admin, c.model, png_upload())
    c.picture = services.add_pictures(admin, c.model, [png_upload("side.png")], caption="Side")[0]
    services.set_published(admin, c.model, True)
    c.draft = services.save_model(
        admin,
        brand=c.brand,
        name=f"{prefix} Concept",
        body_type=BodyType.COUPE,
        energy_type=EnergyType.PETROL,
    )
    services.save_trim(
        admin, c.draft, name="Base", msrp=Decimal("99000"), dealer_price=Decimal("99000")
    )
    c.draft_picture = services.add_pictures(admin, c.draft, [png_upload("d.png")])[0]
    c.product = services.save_finance_product(
        admin,
        name="Easy 36",
        name_i18n={"zh-hans": "轻松36期"},
        annual_rate=Decimal("3.99"),
        min_down_payment_pct=Decimal("20"),
        max_down_payment_pct=Decimal("70"),
        terms=[12, 24, 36],
        fee=Decimal("500.00"),
    )
    c.insurer = services.save_insurer(admin, name="Ping An", phone="95511")
    return c
