"""`python -m image_gateway ...`: the `image-gateway` command line (see `cli.py`)."""

from .cli import main

raise SystemExit(main())
