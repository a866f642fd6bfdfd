"""Store services on request: the API. The requests themselves go through the requests area's
endpoints (`POST /api/v1/me/requests` with kind scratch_repair, rental, annual_inspection,
clear_violations, new_driver or designated_driver); this adds the first step of a scratch
repair sent by an app: each photo is uploaded here and its id listed in the request's
`photo_ids`. Transport only: every write is a service."""

from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from m4s.core.api import errors
from m4s.core.auth import owner_auth, staff_auth
from m4s.core.uploads import media_url

from . import services

owner_router = Router(tags=["owner: assistance"], auth=owner_auth)
staff_router = Router(tags=["staff: assistance"], auth=staff_auth)
public_router = Router(tags=["assistance"])


class AssistanceScratchPhotoOut(Schema):
    id: int
    url: str


@owner_router.post(
    "/assistance/scratch-photos",
    response={201: AssistanceScratchPhotoOut},
    openapi_extra={
        **errors(400, 409, 413, 415),
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "properties": {
                            "photo": {"type": "string", "format": "binary", "minLength": 1}
                        }
                    }
                }
            }
        },
    },
)
def upload_scratch_photo(request, photo: File[UploadedFile]):
    """A photo of the damage (JPEG, PNG or WebP; re-encoded without EXIF) for a scratch-repair
    request of the owner's home store's group: send its `id` in the request's `photo_ids`."""
    stored = services.stage_photos(request.owner, [photo])[0]
    return Status(201, {"id": stored.pk, "url": media_url(stored, "image")})
