"""`python -m image_gateway ...`: the `image-gateway` command line (see `cli.py`)."""

from image_gateway.cli import main

raise SystemExit(main())
