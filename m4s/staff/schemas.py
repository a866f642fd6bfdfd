from ninja import Schema

from m4s.org.schemas import GroupBriefOut


class StoreRefOut(Schema):
    id: int
    name: str


class StaffOut(Schema):
    id: int
    username: str
    display_name: str
    role: str
    role_label: str
    dealer_group: GroupBriefOut | None
    stores: list[StoreRefOut]
    permissions: list[str]

    @staticmethod
    def resolve_role_label(obj) -> str:
        return str(obj.get_role_display())

    @staticmethod
    def resolve_stores(obj) -> list:
        return list(obj.stores.all())

    @staticmethod
    def resolve_permissions(obj) -> list[str]:
        from .choices import ROLE_PERMS

        return sorted(ROLE_PERMS.get(obj.role, ()))
