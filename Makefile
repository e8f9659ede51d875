# lsdvr: `make run` sets up and serves; `make test` runs every test.
GO      ?= go
BIN     ?= bin/lsdvr
DATA    ?= ./data
LISTEN  ?= 127.0.0.1:8080
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: run deps build test bench generate clean

## run: install missing ffmpeg/streamlink, build, and serve with SQLite in ./data
run: deps build
	./$(BIN) serve --data $(DATA) --listen $(LISTEN)

## deps: install ffmpeg, ffprobe and streamlink if they are missing (Debian)
deps:
	@./scripts/install-deps.sh

## build: compile the lsdvr binary into bin/
build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/lsdvr

## test: the whole suite, with the race detector (needs ffmpeg and streamlink: make deps)
test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 12m ./...

## bench: Go benchmarks, then webhook and websocket load on a local server (about 5 min)
bench: deps
	GO="$(GO)" ./scripts/bench.sh

## generate: regenerate docs/EVENTS.md and docs/events.schema.json
generate:
	$(GO) generate ./...

clean:
	rm -rf bin
