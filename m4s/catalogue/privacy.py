"""The new-car catalogue holds no owner's data: names of brands, models, trims, colours, finance
products and the insurers the group works with (m4s/privacy/registry.py)."""

PERSONAL_FIELDS: dict = {}
NOT_PERSONAL = {
    "catalogue.Brand": {
        "name": "a car brand",
        "name_i18n": "a car brand",
        "logo": "a brand's logo (public)",
    },
    "catalogue.CarModel": {
        "name": "a car model (catalogue)",
        "name_i18n": "a car model (catalogue)",
        "body_type": "a car model's body style",
        "description": "a car model (catalogue)",
        "description_i18n": "a car model (catalogue)",
    },
    "catalogue.Trim": {"name": "a trim (catalogue)", "name_i18n": "a trim (catalogue)"},
    "catalogue.Colour": {
        "name": "a paint colour (catalogue)",
        "name_i18n": "a paint colour (catalogue)",
    },
    "catalogue.ModelPicture": {"image": "marketing picture of a car model"},
    "catalogue.FinanceProduct": {
        "name": "a finance product",
        "name_i18n": "a finance product",
        "description": "a finance product",
        "description_i18n": "a finance product",
    },
    "catalogue.Insurer": {
        "name": "an insurance company",
        "phone": "an insurance company's number",
        "email": "an insurance company's address",
    },
}


def export_owner(owner) -> dict:
    return {"rows": {}, "files": []}


def erase_owner(owner) -> dict:
    return {}
