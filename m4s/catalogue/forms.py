"""Console forms of the catalogue: they parse and check the input; the services save it."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import TERMS
from .models import Brand, CarModel, Colour, FinanceProduct, Insurer, Trim

TRANSLATED = ("name_i18n", "tagline_i18n", "description_i18n", "caption_i18n")


class CarModelForm(forms.ModelForm):
    class Meta:
        model = CarModel
        fields = [
            "brand",
            "name",
            "name_i18n",
            "body_type",
            "energy_type",
            "tagline",
            "tagline_i18n",
            "description",
            "description_i18n",
            "sort",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, brands=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["brand"]
        if brands is not None and isinstance(field, forms.ModelChoiceField):
            field.queryset = brands


class CoverForm(forms.Form):
    cover = forms.FileField(label=_("Cover picture"))


class TrimForm(forms.ModelForm):
    class Meta:
        model = Trim
        fields = [
            "name",
            "name_i18n",
            "msrp",
            "dealer_price",
            "power_kw",
            "torque_nm",
            "acceleration_s",
            "fuel_l_100km",
            "electric_range_km",
            "battery_kwh",
            "seats",
            "length_mm",
            "drive",
            "active",
            "sort",
        ]

    def clean(self):
        data = super().clean() or {}
        msrp, price = data.get("msrp"), data.get("dealer_price")
        if msrp is not None and price is not None and price > msrp:
            self.add_error("dealer_price", _("The dealer price cannot be above the MSRP."))
        return data


class ColourForm(forms.ModelForm):
    class Meta:
        model = Colour
        fields = ["name", "name_i18n", "hex", "extra_price", "sort"]
        widgets = {"hex": forms.TextInput(attrs={"type": "color"})}


class BrandForm(forms.ModelForm):
    class Meta:
        model = Brand
        fields = ["name", "name_i18n", "logo", "sort"]


class FinanceProductForm(forms.ModelForm):
    allowed = forms.TypedMultipleChoiceField(
        label=_("Terms (months)"),
        choices=[(t, str(t)) for t in TERMS],
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = FinanceProduct
        fields = [
            "name",
            "name_i18n",
            "description",
            "description_i18n",
            "annual_rate",
            "min_down_payment_pct",
            "max_down_payment_pct",
            "fee",
            "active",
            "sort",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["allowed"] = self.instance.allowed_terms
        else:
            self.initial["allowed"] = [12, 24, 36, 48, 60]

    def clean(self):
        data = super().clean() or {}
        low, high = data.get("min_down_payment_pct"), data.get("max_down_payment_pct")
        if low is not None and high is not None and low > high:
            self.add_error(
                "max_down_payment_pct", _("The minimum down payment cannot be above the maximum.")
            )
        return data


class InsurerForm(forms.ModelForm):
    class Meta:
        model = Insurer
        fields = ["name", "phone", "email", "active", "sort"]
