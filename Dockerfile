# image-gateway: one image for the API server and the worker (see docker-compose.yml).
#
# The base image is pinned to an exact Python and Debian release; change the tag on purpose
# (both stages use it, so the venv's interpreter path is the same in each).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# Build stage: a virtual environment with the pinned requirements and the gateway installed.
# Its pip cache, the setuptools build folder and egg-info stay here: only /opt/venv and
# main.py reach the runtime image.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY requirements.txt ./
RUN /opt/venv/bin/pip install -r requirements.txt
COPY pyproject.toml main.py ./
COPY image_gateway ./image_gateway
# Bytecode at build time: with PYTHONDONTWRITEBYTECODE (and a user who cannot write there)
# every start would otherwise compile the gateway's modules from source, ~60 ms of each cold
# start.
RUN /opt/venv/bin/pip install --no-deps . \
    && /opt/venv/bin/python -m compileall -q main.py /opt/venv/lib

# Runtime stage: the base image, the venv, main.py and an unprivileged user.
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /src/main.py ./
COPY --from=build /src/__pycache__ ./__pycache__
RUN useradd --system --uid 10001 gateway && mkdir -p /app/data && chown gateway /app/data
USER gateway

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000", "--http", "image_gateway.server:HttpProtocol", "--no-access-log", "--proxy-headers", "--ws", "none"]
