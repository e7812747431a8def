"""Counts in sentences: "1 image", "3 images", "1 minute"."""


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """``number`` and the noun that agrees with it (plural: ``singular + "s"`` unless given)."""
    noun = singular if number == 1 else (plural or singular + "s")
    return f"{number} {noun}"
