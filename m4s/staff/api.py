from ninja import Router

from m4s.core.auth import staff_auth

from .choices import Perm
from .permissions import check_perm
from .schemas import StaffOut

router = Router(tags=["staff"], auth=staff_auth)


@router.get("/me", response=StaffOut)
def staff_me(request):
    check_perm(request.user, Perm.USE_CONSOLE)
    return request.user
