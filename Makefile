# Mirador: `make run` builds and starts the server with its embedded default;
# `make test` runs the whole test suite.

GO       ?= go
BIN      ?= bin/mirador
PKG      := github.com/miradorhq/mirador
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
REVISION ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BRANCH   ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -X $(PKG)/internal/buildinfo.Version=$(VERSION) \
            -X $(PKG)/internal/buildinfo.Revision=$(REVISION) \
            -X $(PKG)/internal/buildinfo.Branch=$(BRANCH) \
            -X $(PKG)/internal/buildinfo.Date=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)
FUZZTIME ?= 20s

.PHONY: all build run test test-short fuzz bench vet fmt clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mirador

# Starts the server on 127.0.0.1:7070 (OTLP on 4318/4317), data in ./mirador-data.
run: build
	./$(BIN) server $(ARGS)

test:
	$(GO) vet ./...
	$(GO) test -race -timeout 20m ./...

test-short:
	$(GO) test -short ./...

# Runs each fuzz target for FUZZTIME (the seed corpora also run in `make test`).
fuzz:
	$(GO) test ./internal/metrics -run '^$$' -fuzz FuzzRemoteWriteV1 -fuzztime $(FUZZTIME)
	$(GO) test ./internal/metrics -run '^$$' -fuzz FuzzRemoteWriteV2 -fuzztime $(FUZZTIME)
	$(GO) test ./internal/metrics -run '^$$' -fuzz FuzzDecodeV1MatchesGogo -fuzztime $(FUZZTIME)
	$(GO) test ./internal/ingest/otlp -run '^$$' -fuzz FuzzOTLPMetricsHTTP -fuzztime $(FUZZTIME)
	$(GO) test ./internal/config -run '^$$' -fuzz FuzzConfigFile -fuzztime $(FUZZTIME)
	$(GO) test ./internal/eventstore/wal -run '^$$' -fuzz FuzzReplay -fuzztime $(FUZZTIME)
	$(GO) test ./internal/eventstore -run '^$$' -fuzz FuzzDecodeBatch -fuzztime $(FUZZTIME)
	$(GO) test ./internal/eventstore -run '^$$' -fuzz FuzzFlattenJSON -fuzztime $(FUZZTIME)
	$(GO) test ./internal/logs -run '^$$' -fuzz FuzzNDJSON -fuzztime $(FUZZTIME)
	$(GO) test ./internal/logs -run '^$$' -fuzz FuzzOTLPLogs -fuzztime $(FUZZTIME)
	$(GO) test ./internal/logs -run '^$$' -fuzz FuzzBulk -fuzztime $(FUZZTIME)
	$(GO) test ./internal/logs -run '^$$' -fuzz FuzzLogfmt -fuzztime $(FUZZTIME)
	$(GO) test ./internal/logs/loki -run '^$$' -fuzz FuzzDecodeProto -fuzztime $(FUZZTIME)
	$(GO) test ./internal/logs/loki -run '^$$' -fuzz FuzzDecodeJSON -fuzztime $(FUZZTIME)
	$(GO) test ./internal/query/insights -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./internal/query/filterpattern -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./internal/query/logql -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./internal/traces -run '^$$' -fuzz FuzzOTLPTraces -fuzztime $(FUZZTIME)
	$(GO) test ./internal/traces/zipkin -run '^$$' -fuzz FuzzDecodeJSON -fuzztime $(FUZZTIME)
	$(GO) test ./internal/api -run '^$$' -fuzz FuzzJaegerSearch -fuzztime $(FUZZTIME)
	$(GO) test ./internal/alarms/composite -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./internal/notify/filterpolicy -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./internal/alarms -run '^$$' -fuzz FuzzNormalize -fuzztime $(FUZZTIME)
	$(GO) test ./internal/logs/metricfilter -run '^$$' -fuzz FuzzCompile -fuzztime $(FUZZTIME)
	$(GO) test ./internal/traces/xray -run '^$$' -fuzz FuzzParsePacket -fuzztime $(FUZZTIME)
	$(GO) test ./internal/traces/xray -run '^$$' -fuzz FuzzDecodeSegment -fuzztime $(FUZZTIME)
	$(GO) test ./internal/traces/xray -run '^$$' -fuzz FuzzDecodePutTraceSegments -fuzztime $(FUZZTIME)
	$(GO) test ./internal/traces/sampling -run '^$$' -fuzz FuzzDecodeTargets -fuzztime $(FUZZTIME)
	$(GO) test ./internal/traces/sampling -run '^$$' -fuzz FuzzDecodeCreateRule -fuzztime $(FUZZTIME)
	$(GO) test ./internal/traces/sampling -run '^$$' -fuzz FuzzHandler -fuzztime $(FUZZTIME) -fuzzminimizetime 2s

# Benchmarks: Go benchmarks, then the load driver against a real server.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./internal/...
	$(GO) run ./bench/remotewrite

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
