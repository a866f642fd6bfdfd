"""Tenancy and stores hold no owner's data; the declarations say so (m4s/privacy/registry.py)."""

PERSONAL_FIELDS: dict = {}
NOT_PERSONAL = {
    "org.Headquarters": {"name": "an organisation"},
    "org.LocalOrganisation": {"name": "an organisation"},
    "org.DealerGroup": {"name": "an organisation"},
    "org.Store": {
        "name": "a business",
        "address": "a business's address",
        "latitude": "a business's position",
        "longitude": "a business's position",
        "app_title": "a store's branding",
    },
    "org.SplashPicture": {"image": "a store's branding (public)"},
    "org.Holiday": {"name": "a holiday"},
    "org.EmergencyNumber": {"phone": "a store's or service's number"},
}
