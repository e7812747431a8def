"""``python -m bench PHOTOS [--smoke | --full]``: see bench/README.md."""

from bench.run import main

raise SystemExit(main())
