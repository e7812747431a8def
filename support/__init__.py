"""Real services started by the test suite and the benchmark, and how they are run.

``processes`` starts, waits for and stops child processes; ``mysql`` and ``s3`` provide
MariaDB/MySQL and an S3 server (SeaweedFS); ``gunicorn`` serves the app; ``redis`` and
``shared`` give the services several instances share; ``nginx`` puts Debian's nginx with
the scale-out deployment's config in front of them. Everything listens
on 127.0.0.1 only, every wait is bounded, and a service that cannot start raises
RuntimeError with the tail of its log (never a skip). ``python -m support`` starts MariaDB
and SeaweedFS by hand. Nothing here imports the tests or the benchmark.
"""
