"""Operating the repository: the health check, and fsck, which repairs what an
interrupted operation left behind (metrics, backups and background jobs belong here
too). The /health view lives in ``routes``."""
