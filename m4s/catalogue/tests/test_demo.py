"""The catalogue demo: per demo group two brands, six models across energy types with two or three
trims each, colours and two or three pictures per model (drawn with Pillow), one draft model in
Huabei, three finance products and four insurers; the pictures are real images."""

import pytest
from PIL import Image

from m4s.catalogue.models import Brand, CarModel, FinanceProduct, Insurer, ModelPicture, Trim
from m4s.demo.catalogue import build_catalogue_demo
from m4s.org import services as org

pytestmark = pytest.mark.django_db


def test_catalogue_demo():
    local = org.create_local_organisation(name="Beijing", city="Beijing")
    groups = [
        org.create_dealer_group(local_org=local, name=name, slug=slug)
        for name, slug in (("Jingcheng", "jingcheng"), ("Huabei", "huabei"))
    ]
    build_catalogue_demo(staff={}, owners=[], stores={})
    for group in groups:
        assert Brand.objects.for_group(group).count() == 2
        models = CarModel.objects.for_group(group)
        assert models.count() == 6
        assert len(set(models.values_list("energy_type", flat=True))) >= 3
        for car in models:
            assert 2 <= car.trims.count() <= 3 and car.colours.count() == 4 and car.cover
            assert 2 <= car.pictures.count() <= 3
        assert FinanceProduct.objects.for_group(group).count() == 3
        assert Insurer.objects.for_group(group).count() == 4
        for trim in Trim.objects.for_group(group):
            assert trim.dealer_price <= trim.msrp
    assert CarModel.objects.unscoped().filter(published=False).count() == 1
    picture = ModelPicture.objects.unscoped().first()
    with Image.open(picture.image.path) as image:
        assert image.size == (960, 540)
