# syntax=docker/dockerfile:1
# Sanad API image. Built by compose.yaml (`docker compose up --build`).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Pango for WeasyPrint, and HarfBuzz's subset library (without it WeasyPrint subsets
# fonts with fontTools, ~10x slower). The PDF fonts (Noto Serif, Devanagari, Gurmukhi)
# are vendored in templates/fonts, so no system font packages beyond what Pango pulls in.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . /app
RUN pip install /app \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin sanad \
 && mkdir -p /app/var /app/keys \
 && chown -R sanad:sanad /app/var /app/keys

# Import the code from /app rather than site-packages, so paths that settings derive
# from the package location (templates/, migrations) point into the source tree.
ENV PYTHONPATH=/app
USER sanad
EXPOSE 8000
# Signing keys live in /app/keys (a volume in compose.yaml): keep them across rebuilds.
VOLUME ["/app/keys"]
CMD ["sh", "-c", "sanad init && exec sanad serve --host 0.0.0.0"]
