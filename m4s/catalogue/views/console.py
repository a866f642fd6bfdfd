"""The catalogue in the console at /console/catalogue/ (MANAGE_CATALOGUE): the group's models,
a model's page (details, cover, trims, colours, pictures; publish / unpublish), brands, finance
products and insurers. Forms parse the input, the services save it. Another group's row is a
404; staff without MANAGE_CATALOGUE get a 403; groupless staff (platform admins) see every
group's catalogue but cannot add to one."""

from functools import wraps

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from m4s.catalogue import selectors, services
from m4s.catalogue.choices import MAX_PICTURES
from m4s.catalogue.forms import (
    BrandForm,
    CarModelForm,
    ColourForm,
    CoverForm,
    FinanceProductForm,
    InsurerForm,
    TrimForm,
)
from m4s.core.errors import DomainError
from m4s.core.uploads import ACCEPT
from m4s.notify import selectors as inbox
from m4s.staff.choices import Perm
from m4s.staff.permissions import staff_page


def catalogue_page(view):
    @staff_page(Perm.MANAGE_CATALOGUE)
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            if exc.status == 404:
                raise Http404(exc.message) from None
            raise

    return wrapper


def ctx(request, **extra):
    return {
        "unread": inbox.count_unread(staff=request.user),
        "nav": "catalogue",
        "tab": "models",
        "can_create": bool(request.user.dealer_group_id),
        "accept": ACCEPT,
        **extra,
    }


def _fields(form) -> dict:
    return {k: v for k, v in form.cleaned_data.items() if k in form._meta.fields}


@catalogue_page
def models(request):
    return render(
        request,
        "catalogue/console/list.html",
        ctx(request, models=list(selectors.models_for_staff(request.user)[:500])),
    )


@catalogue_page
@require_http_methods(["GET", "POST"])
def model_edit(request, model_id: int | None = None):
    car = selectors.get_model_for_staff(request.user, model_id) if model_id else None
    brands = selectors.brands_for_staff(request.user)
    if car is not None:
        brands = brands.filter(dealer_group_id=car.dealer_group_id)
    form = CarModelForm(request.POST or None, instance=car, brands=brands)
    status, error = 200, ""
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = services.save_model(request.user, car, **_fields(form))
            except DomainError as exc:
                error, status = exc.message, exc.status
            else:
                messages.success(request, _("Model saved."))
                return redirect("console-catalogue-model", model_id=saved.pk)
        else:
            status = 422
    return render(
        request,
        "catalogue/console/model.html",
        ctx(
            request,
            car=car,
            form=form,
            error=error,
            cover_form=CoverForm(),
            trims=list(car.trims.all()) if car else [],
            colours=list(car.colours.all()) if car else [],
            pictures=list(car.pictures.all()) if car else [],
            max_pictures=MAX_PICTURES,
            no_brand=not brands.exists(),
        ),
        status=status,
    )


@catalogue_page
@require_POST
def publish(request, model_id: int):
    car = selectors.get_model_for_staff(request.user, model_id)
    publish = request.POST.get("published") == "1"
    try:
        services.set_published(request.user, car, publish)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The model is published.") if publish else _("The model is hidden.")
        )
    return redirect("console-catalogue-model", model_id=car.pk)


def _sub_page(request, template, car, form, obj, status=200):
    return render(request, template, ctx(request, car=car, form=form, obj=obj), status=status)


@catalogue_page
@require_http_methods(["GET", "POST"])
def trim_edit(request, model_id: int, trim_id: int | None = None):
    car = selectors.get_model_for_staff(request.user, model_id)
    trim = selectors.get_trim_for_staff(request.user, car, trim_id) if trim_id else None
    form = TrimForm(request.POST or None, instance=trim)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.save_trim(request.user, car, trim, **_fields(form))
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Trim saved."))
                return redirect("console-catalogue-model", model_id=car.pk)
        return _sub_page(request, "catalogue/console/trim.html", car, form, trim, status=422)
    return _sub_page(request, "catalogue/console/trim.html", car, form, trim)


@catalogue_page
@require_http_methods(["GET", "POST"])
def colour_edit(request, model_id: int, colour_id: int | None = None):
    car = selectors.get_model_for_staff(request.user, model_id)
    colour = selectors.get_colour_for_staff(request.user, car, colour_id) if colour_id else None
    form = ColourForm(request.POST or None, instance=colour)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.save_colour(request.user, car, colour, **_fields(form))
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Colour saved."))
                return redirect("console-catalogue-model", model_id=car.pk)
        return _sub_page(request, "catalogue/console/colour.html", car, form, colour, status=422)
    return _sub_page(request, "catalogue/console/colour.html", car, form, colour)


@catalogue_page
@require_POST
def pictures(request, model_id: int):
    """Upload the cover (field `cover`) or pictures (field `pictures`, several). Anything but a
    JPEG, PNG or WebP: 422 and nothing is stored."""
    car = selectors.get_model_for_staff(request.user, model_id)
    try:
        if request.FILES.get("cover"):
            services.set_cover(request.user, car, request.FILES["cover"])
            messages.success(request, _("Cover picture saved."))
        else:
            added = services.add_pictures(
                request.user,
                car,
                request.FILES.getlist("pictures"),
                caption=(request.POST.get("caption") or "").strip()[:120],
            )
            if not added:
                raise DomainError("no_file", _("Choose a picture first."), status=422)
            messages.success(request, _("Pictures added."))
    except DomainError as exc:
        car = selectors.get_model_for_staff(request.user, model_id)
        return render(
            request,
            "catalogue/console/model.html",
            ctx(
                request,
                car=car,
                form=CarModelForm(instance=car, brands=selectors.brands_for_staff(request.user)),
                error=exc.message,
                cover_form=CoverForm(),
                trims=list(car.trims.all()),
                colours=list(car.colours.all()),
                pictures=list(car.pictures.all()),
                max_pictures=MAX_PICTURES,
            ),
            status=exc.status,
        )
    return redirect("console-catalogue-model", model_id=car.pk)


@catalogue_page
@require_POST
def picture_delete(request, model_id: int, picture_id: int):
    car = selectors.get_model_for_staff(request.user, model_id)
    services.delete_picture(
        request.user, selectors.get_picture_for_staff(request.user, car, picture_id)
    )
    messages.success(request, _("Picture removed."))
    return redirect("console-catalogue-model", model_id=car.pk)


def _list_and_form(request, *, template, rows, obj, form, save, saved_message, back, **extra):
    if request.method == "POST":
        if form.is_valid():
            try:
                save(form)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, saved_message)
                return redirect(back)
        status = 422
    else:
        status = 200
    return render(
        request, template, ctx(request, rows=rows, obj=obj, form=form, **extra), status=status
    )


@catalogue_page
@require_http_methods(["GET", "POST"])
def brands(request, brand_id: int | None = None):
    brand = selectors.get_brand_for_staff(request.user, brand_id) if brand_id else None
    form = BrandForm(request.POST or None, request.FILES or None, instance=brand)

    def save(form):
        services.save_brand(request.user, brand, **_fields(form))

    return _list_and_form(
        request,
        template="catalogue/console/brands.html",
        rows=list(selectors.brands_for_staff(request.user)),
        obj=brand,
        form=form,
        save=save,
        saved_message=_("Brand saved."),
        back="console-catalogue-brands",
        tab="brands",
    )


@catalogue_page
@require_http_methods(["GET", "POST"])
def products(request, product_id: int | None = None):
    product = selectors.get_product_for_staff(request.user, product_id) if product_id else None
    form = FinanceProductForm(request.POST or None, instance=product)

    def save(form):
        services.save_finance_product(
            request.user, product, terms=form.cleaned_data["allowed"], **_fields(form)
        )

    return _list_and_form(
        request,
        template="catalogue/console/products.html",
        rows=list(selectors.products_for_staff(request.user)),
        obj=product,
        form=form,
        save=save,
        saved_message=_("Finance product saved."),
        back="console-catalogue-products",
        tab="finance",
    )


@catalogue_page
@require_http_methods(["GET", "POST"])
def insurers(request, insurer_id: int | None = None):
    insurer = selectors.get_insurer_for_staff(request.user, insurer_id) if insurer_id else None
    form = InsurerForm(request.POST or None, instance=insurer)

    def save(form):
        services.save_insurer(request.user, insurer, **_fields(form))

    return _list_and_form(
        request,
        template="catalogue/console/insurers.html",
        rows=list(selectors.insurers_for_staff(request.user)),
        obj=insurer,
        form=form,
        save=save,
        saved_message=_("Insurer saved."),
        back="console-catalogue-insurers",
        tab="insurers",
    )
