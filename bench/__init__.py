"""Benchmarks of the image repository: ``python -m bench PHOTOS`` (or ``make bench``).

The package starts everything it measures (gunicorn, and for the mysql-s3 backend a
MariaDB database and a SeaweedFS S3 server via ``support``), prints a table in
which every figure stands beside a baseline measured in the same run, writes the
figures as JSON to ``bench/results/<timestamp>.json``, and stops what it started.
See bench/README.md.
"""
