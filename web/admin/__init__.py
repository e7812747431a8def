"""The admin panel (/admin): users, their images, reset and the audit log, for admins
only. Views live in ``routes``; the listings in ``directory``; the actions in ``actions``."""
