"""The transform both reference ETLs apply (docs/animals-api.md, "The transform")."""
import datetime


def transform(detail):
    """A detail as home wants it: friends split on commas, born_at as ISO 8601 UTC with ms."""
    friends = detail["friends"]
    born_at = detail["born_at"]
    if born_at is not None:
        born_at = (datetime.datetime.fromtimestamp(born_at / 1000, tz=datetime.timezone.utc)
                   .isoformat(timespec="milliseconds"))
    return {"id": detail["id"], "name": detail["name"],
            "friends": friends.split(",") if friends else [], "born_at": born_at}
