"""``python -m bench PHOTOS [--quick]``: see bench/README.md."""

from bench.run import main

raise SystemExit(main())
