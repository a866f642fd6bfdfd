"""The owner's data rights over the API: export (Idempotency-Key) and erasure (cancellable)."""

from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Header, Router, Status

from m4s.core import idempotency
from m4s.core.api import errors
from m4s.core.auth import owner_auth
from m4s.core.errors import DomainError

from . import services
from .models import PrivacyApiCall
from .schemas import ErasureOut, ExportOut

router = Router(tags=["privacy"], auth=owner_auth)


def export_out(export) -> dict:
    url = None
    if services.is_downloadable(export):
        url = reverse("app-privacy-download", args=[services.download_token(export)])
    return {
        "id": export.pk,
        "status": export.status,
        "requested_at": export.requested_at,
        "ready_at": export.ready_at,
        "expires_at": export.expires_at,
        "size": export.size,
        "counts": {k: int(v) for k, v in (export.counts or {}).items()},
        "download_url": url,
    }


@router.post("/data-export", response={202: ExportOut}, openapi_extra=errors(422))
def request_export(
    request, idempotency_key: str = Header("", alias="Idempotency-Key", max_length=100)
):
    """Ask for a ZIP of everything M4S holds about you (JSON and XLSX per kind, and your
    photos); poll GET …/data-export/{id} until it is ready. While one is being prepared the
    same one is returned; with an Idempotency-Key a retry gets the same answer."""
    owner = request.owner

    def run():
        export, _created = services.request_export(owner)
        return 202, export_out(export)

    if not idempotency_key:
        status, body = run()
    else:
        if len(idempotency_key) > 100:
            raise DomainError(
                "validation_error", _("An Idempotency-Key is at most 100 characters."), status=422
            )
        status, body = idempotency.call_once(
            PrivacyApiCall.objects.all(),
            key={"owner": owner, "key": idempotency_key},
            body={"export": True},
            create={},
            run=lambda: _jsonable(run()),
        )
        body = export_out(services.get_export(owner, body["id"]))
    return Status(status, body)


def _jsonable(answer):
    status, body = answer
    return status, {"id": body["id"]}


@router.get("/data-export/{int:export_id}", response=ExportOut)
def get_export(request, export_id: int):
    """Your data export: its status and, once ready, the signed download link."""
    return export_out(services.get_export(request.owner, export_id))


@router.post("/erasure", response={202: ErasureOut})
def request_erasure(request):
    """Ask to be erased: after the cooling-off period (ERASURE_COOLING_OFF_DAYS, 15 by
    default) your personal data is erased or anonymised everywhere, keeping only what law or
    accounting requires. Asking again returns the pending request."""
    erasure, _created = services.request_erasure(request.owner)
    return Status(202, erasure)


@router.delete("/erasure", response=ErasureOut)
def cancel_erasure(request):
    """Cancel your pending erasure request (404 when there is none)."""
    return services.cancel_erasure(request.owner)
