"""Staff accounts are staff data, not owners' (m4s/privacy/registry.py)."""

PERSONAL_FIELDS: dict = {}
NOT_PERSONAL = {
    "staff.StaffUser": {
        "username": "a staff account",
        "first_name": "a staff account",
        "last_name": "a staff account",
        "email": "a staff account",
        "display_name": "a staff account",
        "phone": "a staff member's work phone",
        "photo": "a staff member's photo (owners see their consultants)",
    },
}
