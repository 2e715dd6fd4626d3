# airkube: the user's verbs. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

MODE      ?= image
VALUES    ?= values/local.yaml
RELEASE   ?= airflow
NAMESPACE ?= airflow
KUBECONFIG ?=
GIT_REPO  ?=
AIRFLOW_IMAGE ?=
PYTEST_ARGS ?=
# Upstream source archives for what no registry here serves (git-sync); see docker/README.md.
AIRKUBE_SOURCES ?= $(abspath $(wildcard ../shared/sources))
export AIRKUBE_SOURCES

AIRKUBE := .venv/bin/airkube
STAMP   := .venv/.airkube-setup
KUBECONFIG_OPT = $(if $(KUBECONFIG),--kubeconfig $(KUBECONFIG),)
RELEASE_OPTS = --release $(RELEASE) --namespace $(NAMESPACE)
# MODE as the chart spells it, and what each mode needs on top.
CHART_MODE = $(if $(filter git-sync,$(MODE)),gitSync,$(if $(filter git-bundle,$(MODE)),gitBundle,$(MODE)))
GIT_MODE   = $(filter git-sync git-bundle,$(MODE))
MODE_SETS  = --set dags.mode=$(CHART_MODE) $(if $(and $(GIT_MODE),$(GIT_REPO)),--set dags.$(CHART_MODE).repo=$(GIT_REPO),)
BAKE_DAGS  = $(if $(filter image,$(MODE)),--dags dags,)
PUSH_DAGS  = $(if $(filter volume,$(MODE)),--push-dags dags,)
# A git mode without GIT_REPO: the DAGs are published to the local git server and cloned from there.
LOCAL_GIT  = $(and $(GIT_MODE),$(if $(GIT_REPO),,yes))
SERVE_DAGS = $(if $(LOCAL_GIT),--git-server dags,)
# git-sync runs its own image; git bundles need the git provider in Airflow's.
GIT_IMAGES = $(if $(filter git-sync,$(MODE)),--image git-sync,) $(if $(filter git-bundle,$(MODE)),--provider git,) $(if $(LOCAL_GIT),--image gitserver,)
# The images to deploy: one built elsewhere (AIRFLOW_IMAGE), or those built here for the local cluster.
DEPLOY_IMAGES = $(if $(AIRFLOW_IMAGE),--airflow-image $(AIRFLOW_IMAGE),$(if $(filter values/local.yaml,$(VALUES)),--built-images,))

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
	.venv/bin/ruff check bootstrap tests dags chart/files docker
	.venv/bin/ruff format --check bootstrap tests dags chart/files docker
	.venv/bin/mypy
	.venv/bin/pytest -q tests/chart/test_render_matrix.py

.PHONY: test
test: $(STAMP) ## every test tier: the real cluster on one worker, chart, bootstrap and airflow beside it
	.venv/bin/pytest -n 2 --durations=10 $(PYTEST_ARGS)

.PHONY: fuzz
fuzz: $(STAMP) ## the chart's property-based values test with a long budget (FUZZ_EXAMPLES, default 2000)
	AIRKUBE_FUZZ_EXAMPLES=$(or $(FUZZ_EXAMPLES),2000) .venv/bin/pytest tests/chart/test_values_fuzz.py

##@ Local cluster
.PHONY: cluster-up
cluster-up: $(STAMP) ## start the local single-node Kubernetes (release downloads on first use, else built from source, ~20 min; BINARIES=source to build)
	$(AIRKUBE) cluster up $(if $(BINARIES),--binaries $(BINARIES),)

.PHONY: cluster-down
cluster-down: $(STAMP) ## stop the local cluster and remove its network plumbing (its data is kept)
	$(AIRKUBE) cluster down

.PHONY: cluster-status
cluster-status: $(STAMP) ## the health of each local cluster component
	$(AIRKUBE) cluster status

##@ Airflow
.PHONY: up
up: $(STAMP) ## the main job: local cluster, images, deploy values/local.yaml, smoke DAG (MODE=image|volume|git-sync|git-bundle; the git modes use a local git server unless GIT_REPO is set)
	$(MAKE) cluster-up
	$(MAKE) image deploy smoke LOAD=1 VALUES=values/local.yaml KUBECONFIG="$$($(AIRKUBE) cluster kubeconfig)"

.PHONY: image
image: $(STAMP) ## build the images (DAGs baked in when MODE=image; LOAD=1 loads them into the local cluster)
	$(AIRKUBE) image build --image all $(GIT_IMAGES) $(BAKE_DAGS) $(if $(LOAD),--load,)

.PHONY: deploy
deploy: $(STAMP) ## helm upgrade --install with VALUES and wait until every component is ready
	$(AIRKUBE) deploy -f $(VALUES) $(MODE_SETS) $(DEPLOY_IMAGES) $(PUSH_DAGS) $(SERVE_DAGS) $(RELEASE_OPTS) $(KUBECONFIG_OPT)

.PHONY: smoke
smoke: $(STAMP) ## trigger the smoke DAG and follow its task pods
	$(AIRKUBE) smoke $(RELEASE_OPTS) $(KUBECONFIG_OPT)

.PHONY: status
status: $(STAMP) ## the release and each component's readiness
	$(AIRKUBE) status $(RELEASE_OPTS) $(KUBECONFIG_OPT)

.PHONY: down
down: $(STAMP) ## uninstall the release (Secrets and the database volume are kept)
	$(AIRKUBE) down $(RELEASE_OPTS) $(KUBECONFIG_OPT)

.PHONY: dev
dev: $(STAMP) ## watch dags/ and push every change into the running release, reporting when Airflow parsed it
	$(AIRKUBE) dev --dags dags -f $(VALUES) $(RELEASE_OPTS) $(KUBECONFIG_OPT)

.PHONY: bench
bench: $(STAMP) ## measure where task start time goes, idle cost and sizes on the local cluster (TASKS=N for a larger burst); writes bench/
	$(AIRKUBE) cluster up
	$(AIRKUBE) bench $(if $(TASKS),--tasks $(TASKS),) --kubeconfig "$$($(AIRKUBE) cluster kubeconfig)"
	$(AIRKUBE) bench --git-modes --kubeconfig "$$($(AIRKUBE) cluster kubeconfig)"

.PHONY: pod-templates
pod-templates: $(STAMP) ## write the worker pod templates of every DAG mode to out/pod-templates
	$(AIRKUBE) pod-template --all -f $(VALUES) -o out/pod-templates --set dags.gitSync.repo=https://git.example.org/dags.git --set dags.gitBundle.repo=https://git.example.org/dags.git

.PHONY: clean
clean: ## remove the Python environment and generated files of this checkout (not the cache)
	rm -rf .venv out .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
