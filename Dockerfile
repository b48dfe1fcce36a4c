# The provider's image: gunicorn (the default command), `idp worker`, `idp setup` and the sample services all run
# from it. Configured only by environment variables (README.md, "Configuration"); nothing secret is built in
# (.dockerignore keeps keys/, instance/ and .env out).
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
COPY --from=assets /build/node_modules/govuk-frontend/dist/govuk/assets/ idp/static/govuk/
COPY --from=assets /build/node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css /build/node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js idp/static/govuk/
COPY --from=assets /build/node_modules/govuk-frontend/dist/govuk/assets/ relying_party_examples/sample_service/static/
COPY --from=assets /build/node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css relying_party_examples/sample_service/static/
RUN cp idp/static_src/init.js idp/static/govuk/ \
    && pybabel compile --use-fuzzy -d idp/translations \
    && pip install --no-cache-dir --no-deps -e . \
    && useradd --system --home-dir /app idp \
    && mkdir -p keys instance \
    && chown idp keys instance
USER idp
EXPOSE 8080
CMD ["gunicorn", "--config", "gunicorn.conf.py"]
