# syntax=docker/dockerfile:1
# Sanad API image. Built by compose.yaml (`docker compose up --build`).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# No system packages for the renderer: Typst comes as a compiled wheel (requirements.lock)
# and the PDF fonts (Noto Serif, Devanagari, Gurmukhi) are vendored in templates/fonts.

WORKDIR /app
# Every Python dependency at the version and with the hashes of requirements.lock
# (`make lock`), installed by the pip that requirements-pip.lock pins, in a layer of its
# own that a code change does not rebuild; then Sanad itself, with nothing more resolved.
COPY requirements-pip.lock requirements.lock /app/
RUN pip install --require-hashes -r /app/requirements-pip.lock \
 && pip install --require-hashes -r /app/requirements.lock
COPY . /app
RUN pip install --no-deps /app \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin sanad \
 && mkdir -p /app/var /app/keys \
 && chown -R sanad:sanad /app/var /app/keys

# Import the code from /app rather than site-packages, so paths that settings derive
# from the package location (templates/, migrations) point into the source tree.
ENV PYTHONPATH=/app
USER sanad
EXPOSE 8000
# Signing keys live in /app/keys (a volume in compose.yaml): keep them across rebuilds.
# compose.yaml runs the image with a read-only root filesystem: Sanad writes only there
# and to /tmp (a tmpfs), as tests/ops/test_read_only_root.py checks.
VOLUME ["/app/keys"]
CMD ["sh", "-c", "sanad init && exec sanad serve --host 0.0.0.0"]
