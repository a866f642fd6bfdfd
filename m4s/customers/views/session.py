"""What an owner's session remembers of the invitation it arrived through: read by the invitation
landing page, the car binding page and the sign-in page of the owner app."""

from m4s.customers.models import Invitation

# Session keys: the invitation this visitor opened, and an anonymous id of the visitor (so the
# opening and the later sign-in count as one conversion).
INVITATION_KEY = "m4s_invitation"
VISITOR_KEY = "m4s_visitor"


def session_invitation(request) -> Invitation | None:
    """The invitation this session arrived through (its QR code or link), if any."""
    code = request.session.get(INVITATION_KEY)
    if not code:
        return None
    return Invitation.objects.unscoped().select_related("store", "staff").filter(code=code).first()
