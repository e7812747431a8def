"""Comments on public images: posting, deleting, pages of a thread and the counts the
galleries show. Views live in ``routes``, the rules in ``threads``."""
