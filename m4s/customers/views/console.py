"""Console pages for customers: search, the customer 360, consultants, desk binding, transfers,
invitation QR codes and binding rates. Thin: they call the same services and selectors as the API."""

import io

import segno
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from m4s.core.errors import DomainError
from m4s.customers import selectors, services
from m4s.customers.choices import BIND_MESSAGES, Assignment
from m4s.customers.models import Invitation, TransferRequest
from m4s.notify import selectors as inbox
from m4s.org.selectors import list_stores
from m4s.staff.choices import Perm
from m4s.staff.permissions import staff_page
from m4s.staff.selectors import list_staff


def _ctx(request, **extra):
    return {"unread": inbox.count_unread(staff=request.user), **extra}


@staff_page(Perm.VIEW_CUSTOMERS)
def customer_list(request):
    q = request.GET.get("q", "")[:60]
    results = (
        list(selectors.search_customers(request.user, q, limit=50).prefetch_related("vehicles"))
        if q
        else []
    )
    if request.htmx and request.GET.get("partial"):
        return render(
            request, "customers/console/_customer_results.html", {"results": results, "q": q}
        )
    return render(
        request,
        "customers/console/customers.html",
        _ctx(
            request,
            nav="customers",
            q=q,
            results=results,
            transfers=list(selectors.list_open_transfers(request.user)[:20]),
        ),
    )


def _assignable(user, customer):
    staff = list_staff(user).filter(is_active=True, stores=customer.store_id)
    return {
        field: [s for s in staff if s.role in services.ASSIGNMENT_ROLES[field]]
        for field in Assignment.values
    }


@staff_page(Perm.VIEW_CUSTOMERS)
def customer_detail(request, customer_id: int):
    customer = selectors.get_customer(request.user, customer_id)
    error = request.session.pop("m4s_console_error", None)
    notice = request.session.pop("m4s_console_notice", None)
    return render(
        request,
        "customers/console/customer.html",
        _ctx(
            request,
            nav="customers",
            customer=customer,
            id_number=services.id_number_for(request.user, customer),
            timeline=list(selectors.list_timeline(customer, limit=100)),
            assignable=_assignable(request.user, customer)
            if request.user.has_perm_m4s(Perm.ASSIGN_CUSTOMERS)
            else None,
            transfers=list(
                TransferRequest.objects.for_group(customer.dealer_group_id)
                .filter(to_customer=customer, status="open")
                .select_related("vehicle", "from_customer")
            ),
            error=error,
            notice=notice,
        ),
    )


def _back(request, customer_id, *, error=None, notice=None):
    if error:
        request.session["m4s_console_error"] = error
    if notice:
        request.session["m4s_console_notice"] = notice
    return redirect("console-customer", customer_id=customer_id)


@staff_page(Perm.ASSIGN_CUSTOMERS)
@require_POST
def customer_assign(request, customer_id: int):
    customer = selectors.get_customer(request.user, customer_id)
    changes = {}
    try:
        for field in Assignment.values:
            if field in request.POST:
                value = request.POST[field].strip()
                if value and not (value.isascii() and value.isdigit() and len(value) < 10):
                    raise DomainError("invalid_assignee", _("Choose a staff member from the list."))
                changes[field] = int(value) if value else None
        services.assign_consultants(request.user, customer, changes)
    except DomainError as exc:
        return _back(request, customer_id, error=exc.message)
    return _back(request, customer_id, notice=_("Consultants saved."))


@staff_page(Perm.EDIT_CUSTOMERS)
@require_POST
def customer_bind(request, customer_id: int):
    customer = selectors.get_customer(request.user, customer_id)
    details = {
        k: request.POST[k].strip()
        for k in ("brand", "model", "colour")
        if request.POST.get(k, "").strip()
    }
    try:
        outcome, _obj = services.bind_at_desk(
            request.user,
            customer,
            request.POST.get("plate", ""),
            request.POST.get("vin", ""),
            **details,
        )
    except DomainError as exc:
        return _back(request, customer_id, error=exc.message)
    return _back(request, customer_id, notice=BIND_MESSAGES[outcome]())


@staff_page(Perm.RESOLVE_TRANSFERS)
@require_POST
def transfer_decide(request, transfer_id: int):
    transfer = selectors.get_transfer(request.user, transfer_id)
    try:
        services.resolve_transfer(
            request.user,
            transfer,
            approve=request.POST.get("approve") == "1",
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        return _back(request, transfer.to_customer_id, error=exc.message)
    return redirect("console-customer", customer_id=transfer.to_customer_id)


# --- invitations -----------------------------------------------------------------------------------
def _invitation_url(request, invitation: Invitation) -> str:
    return request.build_absolute_uri(reverse("invitation", args=[invitation.code]))


def _own_invitations(user):
    invitations = []
    for store in list_stores(user).filter(pk__in=user.store_ids()):
        invitations.append(services.get_or_create_invitation(store, user))
    return invitations


@staff_page(Perm.USE_CONSOLE)
def invitations_page(request):
    user = request.user
    mine = _own_invitations(user) if user.dealer_group_id else []
    store_invites = []
    if user.has_perm_m4s(Perm.ASSIGN_CUSTOMERS):
        store_invites = [services.get_or_create_invitation(s) for s in list_stores(user)]
    rates_staff = selectors.binding_rates(user, by="staff")
    rates_store = selectors.binding_rates(user, by="store")
    return render(
        request,
        "customers/console/invitations.html",
        _ctx(
            request,
            nav="invitations",
            mine=[(i, _invitation_url(request, i)) for i in mine],
            store_invites=[(i, _invitation_url(request, i)) for i in store_invites],
            rates_staff=rates_staff,
            rates_store=rates_store,
        ),
    )


@staff_page(Perm.USE_CONSOLE)
def invitation_qr(request, code: str, fmt: str):
    if fmt not in ("png", "svg"):
        raise Http404
    invitation = Invitation.objects.for_actor(request.user).filter(code=code).first()
    if invitation is None:
        raise Http404
    qr = segno.make(_invitation_url(request, invitation), error="m")
    buffer = io.BytesIO()
    if fmt == "svg":
        qr.save(buffer, kind="svg", scale=6, border=2, dark="#12233a")
        content_type = "image/svg+xml"
    else:
        qr.save(buffer, kind="png", scale=10, border=2, dark="#12233a")
        content_type = "image/png"
    response = HttpResponse(buffer.getvalue(), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="m4s-invitation-{code}.{fmt}"'
    return response


@staff_page(Perm.USE_CONSOLE)
def staff_card(request, staff_id: int | None = None):
    """A printable card with the staff member's photo, role, store and invitation QR."""
    user = request.user
    if staff_id is None or staff_id == user.pk:
        person = user
    else:
        if not user.has_perm_m4s(Perm.ASSIGN_CUSTOMERS):
            raise Http404
        person = list_staff(user).filter(pk=staff_id).first()
        if person is None:
            raise Http404
    invitations = _own_invitations(person) if person.dealer_group_id else []
    return render(
        request,
        "customers/console/card.html",
        _ctx(
            request,
            person=person,
            invitations=[(i, _invitation_url(request, i)) for i in invitations],
            nav="invitations",
        ),
    )


# --- import and export -----------------------------------------------------------------------------
IMPORT_DIR = "imports"


@staff_page(Perm.IMPORT_CUSTOMERS)
def customer_import(request):
    """Upload → dry run (per-row errors, nothing written) → confirm → import. The uploaded file is
    kept under MEDIA_ROOT until confirmed, named by a random token tied to this session."""
    import secrets
    from pathlib import Path

    from django.conf import settings
    from django.core.files.storage import default_storage

    from m4s.customers import importing

    group_id = request.user.dealer_group_id
    report, error, token = None, None, None
    if request.method == "POST" and request.FILES.get("file"):
        upload = request.FILES["file"]
        suffix = Path(upload.name).suffix.lower()
        try:
            rows = importing.read_rows(upload, upload.name)
            report = importing.run_import(request.user, group_id, rows, dry_run=True)
        except DomainError as exc:
            error = exc.message
        else:
            if not report.errors:
                token = secrets.token_urlsafe(12)
                upload.seek(0)
                default_storage.save(f"{IMPORT_DIR}/{token}{suffix}", upload)
                request.session["m4s_import"] = {
                    "token": token,
                    "suffix": suffix,
                    "name": upload.name,
                }
    elif request.method == "POST" and request.POST.get("confirm"):
        pending = request.session.get("m4s_import") or {}
        if pending.get("token") != request.POST["confirm"]:
            error = _("This upload has expired; please upload the file again.")
        else:
            path = Path(settings.MEDIA_ROOT) / IMPORT_DIR / f"{pending['token']}{pending['suffix']}"
            try:
                with open(path, "rb") as fh:
                    rows = importing.read_rows(fh, pending["name"])
                report = importing.run_import(request.user, group_id, rows, dry_run=False)
            except (DomainError, FileNotFoundError) as exc:
                error = getattr(
                    exc, "message", _("This upload has expired; please upload the file again.")
                )
            finally:
                path.unlink(missing_ok=True)
                request.session.pop("m4s_import", None)
    return render(
        request,
        "customers/console/import.html",
        _ctx(
            request,
            nav="customers",
            report=report,
            error=error,
            token=token,
            columns=importing.COLUMNS,
        ),
    )


@staff_page(Perm.IMPORT_CUSTOMERS)
def customer_export(request, fmt: str):
    from m4s.customers import importing

    if fmt not in ("csv", "xlsx"):
        raise Http404
    rows = importing.export_rows(request.user.dealer_group_id, actor=request.user)
    buffer = io.BytesIO()
    if fmt == "csv":
        importing.write_csv(rows, buffer)
        content_type = "text/csv; charset=utf-8"
    else:
        importing.write_xlsx(rows, buffer)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(buffer.getvalue(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="m4s-customers.{fmt}"'
    return response
