"""The test suite: fixtures in conftest.py, plain helpers in helpers.py."""

import pytest

# The helpers assert too (a login that must succeed, ...): pytest explains their failures.
pytest.register_assert_rewrite("tests.helpers")
