# mgvton: everything goes through these targets. `make run` and `make test`
# both start from `make setup`, which is idempotent.
SHELL := /bin/bash
PY    := .venv/bin/python
BIN   := bin/mgvton
GO_TEST_FLAGS ?= -timeout 30m -count=1
export MGVTON_ORT_LIB ?= $(CURDIR)/lib/libonnxruntime.so
export CGO_ENABLED := 1

.PHONY: setup build run test test-go test-py bench fixtures synth train-student train-teacher export eval clean

setup:
	@scripts/setup.sh

build: setup
	go build -o $(BIN) .

run: build
	$(BIN)

test: setup
	go vet ./...
	$(PY) -m pytest -q training/tests
	go build -o $(BIN) .
	go test $(GO_TEST_FLAGS) -tags matprofile ./...

test-go: setup
	go test $(GO_TEST_FLAGS) -tags matprofile ./...

test-py: setup
	$(PY) -m pytest -q training/tests

bench: build
	$(BIN) bench -json
	go test -run '^$$' -bench . -benchmem ./inference/

clean:
	rm -rf bin
