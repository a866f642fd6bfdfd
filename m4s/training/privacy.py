"""Staff training holds staff data only (courses, quiz attempts of staff members): nothing of an
owner's (m4s/privacy/registry.py)."""

PERSONAL_FIELDS: dict[str, set[str]] = {}
NOT_PERSONAL: dict[str, dict[str, str]] = {}


def export_owner(owner) -> dict:
    return {"rows": {}, "files": []}


def erase_owner(owner) -> dict:
    return {}
