# natsops.jetstream — entry points. Everything installs itself on a fresh Debian 12 machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: ## Install OS packages and the Python virtualenv (.venv)
	@scripts/setup.sh

lab: setup ## Create the 9-container lab, deploy the supercluster and print its health
	@scripts/lab/up.sh
	@.venv/bin/ansible-playbook -i inventories/lab playbooks/site.yml
	@.venv/bin/ansible-playbook -i inventories/lab playbooks/health.yml

health: ## Print the lab supercluster's health table
	@.venv/bin/ansible-playbook -i inventories/lab playbooks/health.yml

lab-down: ## Remove the lab containers and network
	@scripts/lab/down.sh

test: ## Run the whole test suite (unit, module integration, Molecule, lint, sanity); STAGES="unit lint" runs some
	@scripts/test.sh $(STAGES)

lint: setup ## ansible-lint (production profile) and ansible-test sanity
	@scripts/test.sh lint sanity

bench: setup ## Lab converge benchmark
	@benchmarks/lab_converge.sh

ee: setup ## Build the execution environment image (natsops/jetstream-ee) on the Debian base, offline
	@scripts/ee.sh

ee-lab: setup ## Build the EE, then run site, health, resources and backup inside it against the lab
	@scripts/ee.sh lab

.PHONY: help setup lab health lab-down test lint bench ee ee-lab
