"""The manual entry point: ``python -m support`` starts MariaDB/MySQL and SeaweedFS S3.

It prints the URL/endpoint (and the environment variables that point the tests or the app
at them) and waits for Ctrl-C, then stops both.
"""

from __future__ import annotations

import contextlib
import signal
import time

from support.mysql import mysql_server
from support.s3 import s3_server


def _main() -> None:
    """Start both services, print where they are, and wait for Ctrl-C."""

    def _on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_term)
    # Also when started in the background by a shell that ignores SIGINT for such jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with contextlib.ExitStack() as stack:
        print("starting MySQL/MariaDB and SeaweedFS S3 ...", flush=True)
        mysql_url = stack.enter_context(mysql_server())
        s3 = stack.enter_context(s3_server())
        print(f"MySQL base URL: {mysql_url}")
        print(f"S3 endpoint:    {s3.endpoint}  access key {s3.access_key}  secret {s3.secret_key}")
        print("\nfor another shell:")
        print(f"  export TEST_MYSQL_URL='{mysql_url}'")
        print(f"  export TEST_S3_ENDPOINT='{s3.endpoint}'")
        print(f"  export TEST_S3_ACCESS_KEY='{s3.access_key}'")
        print(f"  export TEST_S3_SECRET_KEY='{s3.secret_key}'")
        print("\nCtrl-C to stop.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("\nstopping ...", flush=True)
    print("stopped.")


if __name__ == "__main__":
    _main()
