# make run   sets everything up and starts the provider and the sample services (SQLite, no servers needed)
# make test  sets everything up and runs lint, types and every test

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ASSETS := idp/static/govuk
GOVUK_FRONTEND := node_modules/govuk-frontend/dist/govuk
REGISTRATIONS := $(wildcard relying_party_examples/registrations/*.json)

.PHONY: help run test setup venv assets keys translations catalogue lint format typecheck unit bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/activate: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

venv: $(BIN)/activate ## a virtual environment with the pinned dependencies

$(GOVUK_FRONTEND)/govuk-frontend.min.css: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(ASSETS)/govuk-frontend.min.css: $(GOVUK_FRONTEND)/govuk-frontend.min.css idp/static_src/init.js
	mkdir -p $(ASSETS)
	cp -R $(GOVUK_FRONTEND)/assets/. $(ASSETS)/
	cp $(GOVUK_FRONTEND)/govuk-frontend.min.css $(GOVUK_FRONTEND)/govuk-frontend.min.js idp/static_src/init.js $(ASSETS)/
	mkdir -p relying_party_examples/sample_service/static
	cp -R $(GOVUK_FRONTEND)/assets/. relying_party_examples/sample_service/static/
	cp $(GOVUK_FRONTEND)/govuk-frontend.min.css relying_party_examples/sample_service/static/

assets: $(ASSETS)/govuk-frontend.min.css ## the pinned GOV.UK Frontend assets
assets: $(ASSETS)/passkeys.js

$(ASSETS)/passkeys.js: idp/static_src/passkeys.js $(ASSETS)/govuk-frontend.min.css
	cp $< $@

keys: venv ## the sample services' own keys (the provider's keys are made by setup)
	$(BIN)/python -m relying_party_examples.keys keys/rp-fishing-licence.private.pem
	$(BIN)/python -m relying_party_examples.keys keys/rp-vehicle-register.private.pem
	$(BIN)/python -m relying_party_examples.keys keys/rp-state-pension.private.pem

catalogue: venv ## compile the Welsh catalogue
	$(BIN)/pybabel compile --use-fuzzy -d idp/translations --statistics

translations: venv ## extract every translatable string and add the new ones to the Welsh catalogue
	mkdir -p instance
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --omit-header \
		-k _ -k gettext -k ngettext:1,2 -k lazy_gettext -k _l -k pgettext:1c,2 -o instance/messages.pot --project idp .
	$(BIN)/pybabel update -i instance/messages.pot -d idp/translations -l cy --no-fuzzy-matching --ignore-obsolete
	sed -i '/^"POT-Creation-Date\|^"PO-Revision-Date/d' idp/translations/cy/LC_MESSAGES/messages.po

setup: venv assets keys catalogue ## migrate the database, create signing keys, register the sample services
	mkdir -p instance
	$(BIN)/flask --app idp setup $(foreach f,$(REGISTRATIONS),--registrations $(f))

run: setup ## start the provider on :8080 and the sample services on :8081, :8082 and :8083
	@echo "Provider:                      http://localhost:8080/"
	@echo "Apply for a fishing licence:   http://localhost:8081/"
	@echo "Register a vehicle:            http://localhost:8082/"
	@echo "Check your State Pension:      http://localhost:8083/"
	$(BIN)/honcho start -f Procfile

lint: venv ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: venv ## mypy
	$(BIN)/mypy idp relying_party_examples tests $(wildcard bench)

test: setup lint typecheck ## lint, types and every test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup ## the load benchmark against the peer provider (see bench/README.md)
	bench/run.sh

clean:
	rm -rf $(VENV) node_modules $(ASSETS) instance
