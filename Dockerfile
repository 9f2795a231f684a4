# image-gateway: one image for the API server and the worker (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY pyproject.toml main.py ./
COPY image_gateway ./image_gateway
# Bytecode at build time: with PYTHONDONTWRITEBYTECODE (and a user who cannot write here) every
# start would otherwise compile the gateway's modules from source, ~60 ms of each cold start.
RUN pip install --no-deps . \
    && python -m compileall -q main.py image_gateway \
    && useradd --system --uid 10001 gateway \
    && mkdir -p /app/data && chown gateway /app/data
USER gateway

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000", "--no-access-log", "--proxy-headers"]
