"""The image-gateway benchmark harness (`python -m bench`, `make bench`); see bench/README.md."""
