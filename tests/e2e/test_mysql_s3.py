"""The main journey again, on the app served from MySQL/MariaDB + S3 (SeaweedFS)."""

from __future__ import annotations

import pytest

from .journeys import main_journey

pytestmark = pytest.mark.e2e


def test_main_journey_on_mysql_and_s3(open_tab, mysql_s3_server, tmp_path):
    main_journey(open_tab(mysql_s3_server), tmp_path)
