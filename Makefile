# mgvton: everything goes through these targets. `make run` and `make test`
# both start from `make setup`, which is idempotent.
SHELL := /bin/bash
PY    := .venv/bin/python
PY2   := .venv-torch2/bin/python
BIN   := bin/mgvton
GO_TEST_FLAGS ?= -timeout 30m -count=1
export MGVTON_ORT_LIB ?= $(CURDIR)/lib/libonnxruntime.so
export CGO_ENABLED := 1

.PHONY: setup setup-torch2 setup-lint lint build run test test-go test-py test-py-torch2 bench clean

setup:
	@scripts/setup.sh

# the lab's tests also run on current PyTorch 2.x (PyPI) besides Debian's 1.13
setup-torch2: setup
	@scripts/setup-torch2.sh

# pinned ruff in .tools/ (not in the shared .venv); config in ruff.toml
setup-lint:
	@scripts/setup-lint.sh

lint: setup-lint
	.tools/ruff/bin/ruff check training scripts

build: setup
	go build -o $(BIN) .

run: build
	$(BIN)

test: setup setup-torch2 lint
	go vet ./...
	$(PY) -m pytest -q training/tests
	$(PY2) -m pytest -q -p no:cacheprovider training/tests
	go build -o $(BIN) .
	go test $(GO_TEST_FLAGS) -tags matprofile ./...

test-go: setup
	go test $(GO_TEST_FLAGS) -tags matprofile ./...

test-py: setup
	$(PY) -m pytest -q training/tests

test-py-torch2: setup-torch2
	$(PY2) -m pytest -q -p no:cacheprovider training/tests

bench: build
	$(BIN) bench -json
	go test -run '^$$' -bench . -benchmem ./inference/

clean:
	rm -rf bin
