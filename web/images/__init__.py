"""Images: galleries, image pages, upload, delete, rename and visibility moves, listing
and serving bytes. Views live in ``routes``; each rule lives in one service module
(``naming``, ``access``, ``upload``, ``removal``, ``moves``, ``listing``, ``serving``)."""
