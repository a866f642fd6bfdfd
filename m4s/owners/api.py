from ninja import Router

from m4s.core.auth import owner_auth

from . import services
from .schemas import OwnerOut, OwnerPatchIn

router = Router(tags=["owner"], auth=owner_auth)


def owner_out(owner) -> OwnerOut:
    return OwnerOut.from_orm(owner)


@router.get("", response=OwnerOut)
def get_me(request):
    return request.owner


@router.patch("", response=OwnerOut)
def patch_me(request, payload: OwnerPatchIn):
    changes = payload.model_dump(exclude_unset=True)
    return services.update_owner_profile(request.owner, changes, source="api")
