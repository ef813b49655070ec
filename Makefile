# minilet: build, test and install.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
PREFIX  ?= /usr/local
GO      ?= go
LDFLAGS := -s -w -X main.version=$(VERSION)
DEB_PACKAGES := containerd runc containernetworking-plugins busybox-static iproute2 iptables gcc libc6-dev make docker-registry debootstrap systemd-container

.PHONY: all build test unit-test integration-test conformance fuzz install uninstall clean deps quickstart bench

all: build

build: bin/minilet bin/minilet-log-driver bin/pause

bin/minilet: FORCE
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/minilet ./cmd/minilet

# The logging binary the shims run per container: static C, well under
# 1 MiB resident (the Go fallback, `minilet log-driver`, costs 2.5 MiB).
bin/minilet-log-driver: logdriver/logdriver.c
	@mkdir -p bin
	gcc -Os -static -o bin/minilet-log-driver logdriver/logdriver.c
	strip bin/minilet-log-driver

# The pause program: static C, well under 1 MiB resident.
bin/pause: pause/pause.c
	@mkdir -p bin
	gcc -Os -static -o bin/pause pause/pause.c
	strip bin/pause

# deps installs what building and testing need on Debian 12.
deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES)

# test runs every test: unit tests, then integration tests against a
# containerd and a Kubernetes control plane that the tests start themselves
# (needs root and `make deps`). The control plane's commands are built from
# the Kubernetes source module once per version (about 4-9 minutes) and
# cached in $(KUBE_CACHE).
KUBE_CACHE ?= /var/cache/minilet
test: build
	$(GO) vet ./...
	MINILET_KUBE_BIN=$$(MINILET_CACHE_DIR=$(KUBE_CACHE) ./hack/controlplane/build.sh) && export MINILET_KUBE_BIN && \
		$(GO) test -count=1 -p 1 -timeout 30m ./...

unit-test:
	$(GO) test -count=1 -short ./...

integration-test: build
	MINILET_KUBE_BIN=$$(MINILET_CACHE_DIR=$(KUBE_CACHE) ./hack/controlplane/build.sh) && export MINILET_KUBE_BIN && \
		$(GO) test -count=1 -timeout 30m -v ./test/integration/

# conformance runs the chosen list of upstream [NodeConformance] e2e tests
# (the e2e.test binary of the same Kubernetes version) against a cluster
# whose node is minilet, and prints pass or fail per test (make test runs a
# short subset of them).
conformance: build
	MINILET_KUBE_BIN=$$(MINILET_CACHE_DIR=$(KUBE_CACHE) ./hack/controlplane/build.sh) && export MINILET_KUBE_BIN && \
		MINILET_CONFORMANCE=all $(GO) test -count=1 -timeout 60m -run '^TestConformance$$' -v ./test/integration/

# bench measures minilet beside a containerd-client floor on its own
# containerd (needs root and `make deps`; about 3 minutes). BENCH_FLAGS
# passes flags, e.g. BENCH_FLAGS="-runs 3 -probes=false". See docs/bench.md.
BENCH_FLAGS ?=
bench:
	$(GO) run ./hack/bench $(BENCH_FLAGS)

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 60s ./pkg/manifest/

install: build
	install -D -m 0755 bin/minilet $(DESTDIR)$(PREFIX)/bin/minilet
	install -D -m 0755 bin/pause $(DESTDIR)$(PREFIX)/lib/minilet/pause
	install -D -m 0755 bin/minilet-log-driver $(DESTDIR)$(PREFIX)/lib/minilet/minilet-log-driver
	install -D -m 0644 systemd/minilet.service $(DESTDIR)/etc/systemd/system/minilet.service
	install -d -m 0755 $(DESTDIR)/etc/minilet
	install -m 0644 systemd/manifest-dir-README $(DESTDIR)/etc/minilet/README
	@if [ -d /run/systemd/system ] && [ -z "$(DESTDIR)" ]; then \
		systemctl daemon-reload && systemctl enable --now containerd minilet && \
		echo "minilet is running: systemctl status minilet"; \
	else \
		echo "systemd is not running here, so the unit was installed but not started."; \
		echo "Start containerd and minilet by hand:"; \
		echo "  containerd &"; \
		echo "  $(PREFIX)/bin/minilet daemon &"; \
	fi

# quickstart: on a fresh Debian 12 host, as root: install everything, start
# containerd and minilet, and run the example pod.
quickstart: deps install
	./hack/quickstart.sh

uninstall:
	-systemctl disable --now minilet 2>/dev/null
	rm -f $(DESTDIR)$(PREFIX)/bin/minilet $(DESTDIR)$(PREFIX)/lib/minilet/pause $(DESTDIR)$(PREFIX)/lib/minilet/minilet-log-driver $(DESTDIR)/etc/systemd/system/minilet.service

clean:
	rm -rf bin

FORCE:
