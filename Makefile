# airkube: the user's verbs. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

MODE      ?= image
VALUES    ?= values/local.yaml
RELEASE   ?= airflow
NAMESPACE ?= airflow
KUBECONFIG ?=
PYTEST_ARGS ?=

AIRKUBE := .venv/bin/airkube
STAMP   := .venv/.airkube-setup
KUBECONFIG_OPT = $(if $(KUBECONFIG),--kubeconfig $(KUBECONFIG),)

##@ Getting started
.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*##"} /^##@/ {printf "\n%s\n", substr($$0, 5)} /^[a-zA-Z_-]+:.*##/ {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@printf "\nVariables: MODE=%s VALUES=%s RELEASE=%s NAMESPACE=%s KUBECONFIG=%s\n" "$(MODE)" "$(VALUES)" "$(RELEASE)" "$(NAMESPACE)" "$(KUBECONFIG)"

$(STAMP): pyproject.toml uv.lock scripts/setup.sh
	scripts/setup.sh
	@touch $@

.PHONY: setup
setup: ## install the pinned Python environment, helm, kubeconform and schemas
	scripts/setup.sh
	@touch $(STAMP)

##@ Quality
.PHONY: lint
lint: $(STAMP) ## ruff, mypy, helm lint --strict and kubeconform over every values file
	.venv/bin/ruff check bootstrap tests dags
	.venv/bin/ruff format --check bootstrap tests dags
	.venv/bin/mypy
	.venv/bin/pytest -q tests/chart/test_render_matrix.py

.PHONY: test
test: $(STAMP) ## every test tier: chart, bootstrap, airflow, then the real cluster
	.venv/bin/pytest $(PYTEST_ARGS)

##@ Local cluster
.PHONY: cluster-up
cluster-up: $(STAMP) ## start the local single-node Kubernetes (built on first use)
	$(AIRKUBE) cluster up

.PHONY: cluster-down
cluster-down: $(STAMP) ## stop the local cluster and remove its network plumbing
	$(AIRKUBE) cluster down

##@ Airflow
.PHONY: image
image: $(STAMP) ## build the images (and load them into the local cluster when it runs)
	$(AIRKUBE) image build --image all $(if $(filter image,$(MODE)),--dags dags,)

.PHONY: pod-templates
pod-templates: $(STAMP) ## write the worker pod templates of all three DAG modes to out/pod-templates
	$(AIRKUBE) pod-template --all -f $(VALUES) -o out/pod-templates --set dags.gitSync.repo=https://git.example.org/dags.git

.PHONY: clean
clean: ## remove the Python environment and generated files of this checkout (not the cache)
	rm -rf .venv out .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
