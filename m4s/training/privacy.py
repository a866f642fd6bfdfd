"""Staff training holds staff data only (courses, quiz attempts of staff members): nothing of an
owner's (m4s/privacy/registry.py)."""

PERSONAL_FIELDS: dict[str, set[str]] = {}
_COURSE = "course material written by the group's trainers"
NOT_PERSONAL: dict[str, dict[str, str]] = {
    "training.Course": {
        "title": _COURSE,
        "title_i18n": _COURSE,
        "body": _COURSE,
        "body_i18n": _COURSE,
    },
    "training.Quiz": {"title": _COURSE, "title_i18n": _COURSE},
}


def export_owner(owner) -> dict:
    return {"rows": {}, "files": []}


def erase_owner(owner) -> dict:
    return {}
