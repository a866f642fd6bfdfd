"""Uploaded pictures: real raster images only, stored under random names without EXIF, and
served only through `m4s.core.views.media_file`, which asks the owning area who may see them.

Every picture a person uploads (owners' photos of a problem, walk-round and inspection photos,
store logos and splash pictures, staff photos) is a `ProtectedImageField`:

* `area` names the folder under MEDIA_ROOT and the URL segment (`/media/<area>/<pk>/<file>`);
  new files are stored as `<area>/<uuid>.<ext>`, never under the name the browser sent.
* `access` is the dotted path of a function `(request, obj) -> bool` in the owning area's
  selectors; the download view answers 404 when it says no (anonymous, another owner, another
  group, a store out of the staff member's scope). `access=PUBLIC` marks public branding.
* Whatever is saved passes `clean_image()`: Pillow must recognise a JPEG, PNG or WebP (SVG,
  HTML and anything else are refused with `invalid_image`), the picture is re-encoded with its
  EXIF orientation applied and without any metadata (GPS position, camera, time).

`MEDIA_ROOT` is never routed publicly; the README ("Uploaded files are never public") shows how a
production web server sends the bytes with `X-Accel-Redirect` / `X-Sendfile` after the check.
"""

import functools
import io
import uuid
from pathlib import PurePosixPath
from typing import Any, cast

from django import forms
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.base import ContentFile
from django.db import models
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from django.urls import reverse
from django.utils.deconstruct import deconstructible
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import DomainError

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 50_000_000  # a 50-megapixel photo; more is a decompression bomb
# Pillow format -> (stored extension, content type). Nothing else is accepted or served.
RASTER_FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}
# `access` of public branding (store logos, splash pictures): the sign-in page shows them.
PUBLIC = "public"
ACCEPT = ",".join(sorted({t for _e, t in RASTER_FORMATS.values()}))


class CleanImage(ContentFile):  # type: ignore[type-arg]  # generic only in the stubs; subscripting fails at runtime
    """A picture that went through `clean_image()` (re-encoded, no metadata)."""


def _invalid() -> DomainError:
    return DomainError(
        "invalid_image", str(_("Only pictures in JPEG, PNG or WebP can be uploaded."))
    )


def _too_large(max_bytes: int) -> DomainError:
    return DomainError(
        "image_too_large",
        str(_("A picture may be at most %(mb)d MB.") % {"mb": max_bytes // (1024 * 1024)}),
    )


def clean_image(upload: Any, *, max_bytes: int = MAX_IMAGE_BYTES) -> CleanImage:
    """The upload re-encoded as the same raster format, EXIF orientation applied, metadata gone.

    Raises DomainError `invalid_image` for anything Pillow does not verify as JPEG, PNG or WebP
    (SVG, HTML, a renamed file, a truncated or oversized picture) and `image_too_large` above
    `max_bytes`.
    """
    if isinstance(upload, CleanImage):
        return upload
    if (getattr(upload, "size", None) or 0) > max_bytes:
        raise _too_large(max_bytes)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    formats = list(RASTER_FORMATS)
    try:
        with Image.open(io.BytesIO(data), formats=formats) as probe:
            if probe.width * probe.height > MAX_IMAGE_PIXELS:
                raise _invalid()
            probe.verify()
        with Image.open(io.BytesIO(data), formats=formats) as opened:
            fmt = opened.format
            opened.load()
            picture = ImageOps.exif_transpose(opened)
    except DomainError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise _invalid() from exc
    except (SyntaxError, EOFError, IndexError, TypeError, KeyError) as exc:  # broken headers
        raise _invalid() from exc
    if fmt not in RASTER_FORMATS:
        raise _invalid()
    ext, _ctype = RASTER_FORMATS[fmt]
    return CleanImage(_encode(picture, fmt), name=f"image.{ext}")


def _encode(picture: Image.Image, fmt: str) -> bytes:
    icc = picture.info.get("icc_profile")
    if "transparency" in picture.info or picture.mode in ("P", "PA", "LA", "La", "RGBa"):
        picture = picture.convert("RGBA")
    modes = {"JPEG": ("RGB", "L"), "PNG": ("RGB", "RGBA", "L"), "WEBP": ("RGB", "RGBA")}[fmt]
    if picture.mode not in modes:
        picture = picture.convert("RGB" if fmt == "JPEG" else "RGBA")
    picture.info = {}  # no EXIF, XMP, text chunks or comments are carried over
    options: dict[str, Any] = {"exif": b""}
    if icc:
        options["icc_profile"] = icc  # colours only: no place, time or device
    if fmt == "JPEG":
        options.update(quality=88, optimize=True)
    elif fmt == "WEBP":
        options.update(quality=88)
    else:
        options.update(optimize=True)
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()


def clean_images(files: Any, *, limit: int) -> list[CleanImage]:
    """Several uploads, each cleaned; bad input raises before anything is stored."""
    files = [f for f in (files or []) if f]
    if len(files) > limit:
        raise DomainError("too_many_photos", str(_("At most %(n)d photos.") % {"n": limit}))
    return [clean_image(f) for f in files]


@deconstructible
class RandomName:
    """upload_to: `<area>/<uuid>.<ext>`; the name the browser sent is never used."""

    def __init__(self, area: str) -> None:
        self.area = area

    def __call__(self, instance: models.Model, filename: str) -> str:
        ext = PurePosixPath(filename).suffix.lower().lstrip(".")
        return f"{self.area}/{uuid.uuid4().hex}.{ext if ext in CONTENT_TYPES else 'bin'}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RandomName) and other.area == self.area


class ImageUploadField(forms.FileField):
    """Form field of a ProtectedImageField: the cleaned value is the re-encoded picture."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def to_python(self, data: Any) -> CleanImage | None:
        upload = super().to_python(data)
        if upload is None:
            return None
        try:
            return clean_image(upload)
        except DomainError as exc:
            raise ValidationError(exc.message, code=exc.code) from None


class ProtectedFieldFile(FieldFile):
    def save(self, name: str, content: Any, save: bool = True) -> None:
        """Every way a file reaches storage (forms, services, `field.save()`, the model's
        pre_save) passes here: only a cleaned raster picture is stored, under a random name."""
        cleaned = clean_image(content)
        super().save(cleaned.name or "image", cleaned, save)

    @property
    def url(self) -> str:
        """The protected download URL (never MEDIA_URL + name)."""
        self._require_file()  # type: ignore[attr-defined]  # FieldFile's own guard, not in the stubs
        return media_url(self.instance, self.field.name)


class ProtectedImageField(models.FileField):
    attr_class = ProtectedFieldFile

    def __init__(
        self,
        verbose_name: Any = None,
        name: str | None = None,
        *,
        area: str = "",
        access: str = "",
        **kw: Any,
    ) -> None:
        self.area, self.access = area, access
        kw["upload_to"] = RandomName(area)
        super().__init__(verbose_name, name, **kw)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("upload_to", None)
        kwargs["area"] = self.area  # `access` is code, not schema: migrations do not carry it
        return name, path, args, kwargs

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(**{"form_class": ImageUploadField, **kwargs})


@functools.cache
def protected_fields() -> dict[str, tuple[type[models.Model], ProtectedImageField]]:
    """area -> (model, field) for every ProtectedImageField of the installed apps."""
    found: dict[str, tuple[type[models.Model], ProtectedImageField]] = {}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not isinstance(field, ProtectedImageField) or field.model is not model:
                continue
            if not field.area or not field.access:
                raise ImproperlyConfigured(f"{model.__name__}.{field.name} needs area and access")
            if field.area in found:
                raise ImproperlyConfigured(f"media area {field.area!r} is used twice")
            found[field.area] = (model, field)
    return found


def media_url(instance: models.Model, field_name: str) -> str:
    field = cast(ProtectedImageField, instance._meta.get_field(field_name))
    name = PurePosixPath(getattr(instance, field.attname).name).name
    return reverse("media-file", kwargs={"area": field.area, "pk": instance.pk, "name": name})


def find_protected_file(request: HttpRequest, area: str, pk: int, name: str) -> FieldFile | None:
    """The stored file behind a media URL if the requester may see it, else None."""
    entry = protected_fields().get(area)
    if entry is None:
        return None
    model, field = entry
    manager = model._default_manager
    qs = manager.unscoped() if hasattr(manager, "unscoped") else manager.all()
    obj = qs.filter(pk=pk).first()
    if obj is None:
        return None
    file: FieldFile | None = getattr(obj, field.attname)
    if not file or PurePosixPath(file.name or "").name != name:
        return None
    if PurePosixPath(file.name or "").suffix.lower().lstrip(".") not in CONTENT_TYPES:
        return None  # an SVG or any other non-raster file stored before uploads were checked
    if field.access != PUBLIC and not import_string(field.access)(request, obj):
        return None
    return file


def requesting_staff(request: HttpRequest) -> Any:
    """The signed-in, active staff member of a request, or None (for access rules)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return user


def requesting_owner(request: HttpRequest) -> Any:
    """The signed-in owner of a request (owner app session), or None (for access rules)."""
    owner = getattr(request, "owner", None)
    return owner if owner else None
