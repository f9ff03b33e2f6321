"""A count for people, the same in every message: thousands set apart by a narrow no-break space ("20 000")."""


def count(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")
