from django.conf import settings
from ninja import Router, Status

from m4s.core.api import errors
from m4s.core.auth import any_auth
from m4s.customers import services as customer_services
from m4s.owners.schemas import OwnerOut

from . import services
from .network import client_ip
from .schemas import (
    OtpRequestIn,
    OtpRequestOut,
    OtpVerifyIn,
    OwnerSessionOut,
    StaffLoginIn,
    StaffSessionOut,
)

router = Router(tags=["auth"])


@router.post("/otp/request", response={202: OtpRequestOut}, exclude_none=True, auth=None)
def request_otp(request, payload: OtpRequestIn):
    """Send a 6-digit sign-in code by SMS. Limited per phone and per network."""
    issued = services.request_otp(payload.phone, client_ip(request))
    body = {
        "phone": issued.phone,
        "expires_at": issued.expires_at,
        "resend_after_seconds": settings.OTP_RESEND_SECONDS,
    }
    if settings.DEBUG:
        body["debug_code"] = issued.code
    return Status(202, body)


@router.post("/otp/verify", response=OwnerSessionOut, auth=None, openapi_extra=errors(403))
def verify_otp(request, payload: OtpVerifyIn):
    invitation = None
    if payload.invitation:
        invitation = customer_services.open_invitation(
            payload.invitation, visitor=f"api-{payload.phone}"[:32]
        )
    store_id = invitation.store_id if invitation is not None else payload.store
    owner = services.verify_otp(payload.phone, payload.code, home_store_id=store_id)
    customer_services.mark_signed_in(
        owner, invitation, f"api-{payload.phone}"[:32] if invitation else None
    )
    token = services.issue_token(owner=owner, user_agent=request.headers.get("User-Agent", ""))
    return {"token": token, "owner": OwnerOut.from_orm(owner)}


@router.post("/staff/login", response=StaffSessionOut, auth=None, openapi_extra=errors(401, 403))
def staff_login(request, payload: StaffLoginIn):
    staff = services.staff_login(payload.username, payload.password, client_ip(request))
    token = services.issue_token(staff=staff, user_agent=request.headers.get("User-Agent", ""))
    return {"token": token, "staff": staff}


@router.post("/logout", response={204: None}, auth=any_auth)
def logout(request):
    """Revoke the token this request was made with."""
    services.revoke_token(request.api_token)
    return Status(204, None)
