from ninja import Schema


class StoreBriefOut(Schema):
    id: int
    name: str
    app_title: str
    brand_colour: str
    timezone: str


class GroupBriefOut(Schema):
    id: int
    name: str
