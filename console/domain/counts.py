"""A count for people, the same in every message: thousands set apart by a narrow no-break space ("20 000")."""


from typing import Any


def count(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def whole(value: Any) -> Any:
    """A whole Float64 as people (and the Convex dashboard) write it: 2.0 is 2. Past 2**53 a float is kept."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    return value
