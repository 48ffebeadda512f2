# mgvton: everything goes through these targets. `make run` and `make test`
# both start from `make setup`, which is idempotent.
SHELL := /bin/bash
PY    := .venv/bin/python
PY2   := .venv-torch2/bin/python
BIN   := bin/mgvton
# staticcheck, pinned and installed by setup into the git-ignored .gobin/
STATICCHECK := .gobin/staticcheck
GO_TEST_FLAGS ?= -timeout 30m -count=1
# No MGVTON_ORT_LIB here: mgvton finds lib/libonnxruntime.so beside bin/
# itself, and prefers the GPU build of setup-gpu (lib/gpu) when the machine
# has a GPU (internal/ortenv); the tests find the library through
# internal/repotest. Set MGVTON_ORT_LIB to override both.
export CGO_ENABLED := 1

.PHONY: setup setup-torch2 setup-gpu setup-lint lint build run test test-go test-py test-py-torch2 fuzz bench clean

setup:
	@scripts/setup.sh

# the lab's tests also run on current PyTorch 2.x (PyPI) besides Debian's 1.13
setup-torch2: setup
	@scripts/setup-torch2.sh

# a GPU build of ONNX Runtime + CUDA 12 / cuDNN 9 libraries in lib/gpu (never
# part of setup or CI; ~1.5 GB download). 'mgvton -device auto' then uses an
# NVIDIA GPU when the machine has one.
setup-gpu: setup
	@scripts/setup-gpu.sh

# pinned ruff in .tools/ (not in the shared .venv); config in ruff.toml
setup-lint:
	@scripts/setup-lint.sh

build: setup
	go build -o $(BIN) .

run: build
	$(BIN)

# the linters: ruff (Python), go vet and staticcheck (Go), and go.mod/go.sum
# as `go mod tidy` would leave them; findings fail the run
lint: setup setup-lint
	.tools/ruff/bin/ruff check training scripts
	go mod tidy -diff
	go vet ./...
	$(STATICCHECK) ./...

test: setup setup-torch2
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest -q training/tests
	$(PY2) -m pytest -q -p no:cacheprovider training/tests
	go build -o $(BIN) .
	go test $(GO_TEST_FLAGS) -tags matprofile ./...
	$(MAKE) --no-print-directory fuzz

# each fuzz target for a short while (FUZZTIME), after the corpus under
# testdata/fuzz; a crash it finds is written there and fails the run.
# FUZZTIME is a count of executions, not a duration: with a duration, Go
# 1.26's fuzz coordinator can report a bare "context deadline exceeded" as
# a failure when the time runs out while a worker is busy (golang/go#75804,
# fixed in Go 1.27); it failed CI that way. A count has no deadline to race.
FUZZTIME ?= 200000x
fuzz: setup
	go test -run '^$$' -fuzz '^FuzzImageHeader$$' -fuzztime $(FUZZTIME) ./garments/
	go test -run '^$$' -fuzz '^FuzzCatalog$$' -fuzztime $(FUZZTIME) ./garments/

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
