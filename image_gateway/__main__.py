"""`python -m image_gateway ...`: the `image-gateway` command line (see `cli/__init__.py`)."""

from image_gateway.cli import main

raise SystemExit(main())
