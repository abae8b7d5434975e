# The Jinshao application image: web (uvicorn), worker and beat (Celery) and the
# one-shot migrate service all run it (compose.yaml). Runtime dependencies only.

# Stage 1: the phone app (mobile/, Vue + Vite). Only its build, mobile/dist, goes
# into the image; Node.js and node_modules stay behind. The lock file is copied
# first so the npm layer is rebuilt only when it changes.
FROM node:20-slim AS mobile
WORKDIR /mobile
COPY mobile/package.json mobile/package-lock.json ./
RUN npm ci
COPY mobile/ ./
RUN npm run build

# Stage 2: the application image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings

# A font with Chinese glyphs for photo watermarks (chat/media.py, CJK_FONTS), and
# PostgreSQL's client tools for bin/backup and bin/restore (pg_dump/pg_restore 15,
# Debian bookworm's, the same major version as the database in compose.yaml).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei postgresql-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

# A user of its own; it owns only the static and var directories (shared volumes).
RUN groupadd --system --gid 10001 jinshao \
    && useradd --system --uid 10001 --gid jinshao --home-dir /app --shell /usr/sbin/nologin jinshao \
    && mkdir -p /srv/jinshao/static /srv/jinshao/var \
    && chown -R jinshao:jinshao /srv/jinshao

COPY . .
# The phone app's build where core/app_shell.py looks for it (JINSHAO_APP_DIR's
# default, /app/mobile/dist): Django serves the shell and /assets/ (a year, immutable).
COPY --from=mobile /mobile/dist /app/mobile/dist
RUN python -m compileall -q . >/dev/null || true

USER jinshao
EXPOSE 8000
CMD ["uvicorn", "config.asgi:application", "--host=0.0.0.0", "--port=8000", "--no-proxy-headers"]
