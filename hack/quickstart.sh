#!/usr/bin/env bash
# Quickstart on a fresh Debian 12 host (run as root, after `make deps install`):
# start containerd and minilet if they are not running, import a local busybox
# image, drop the example pod into /etc/minilet and show it running.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:/usr/local/bin:$PATH

systemd=false
[ -d /run/systemd/system ] && systemd=true

if ! [ -S /run/containerd/containerd.sock ]; then
  if $systemd; then systemctl start containerd; else
    echo "starting containerd (log: /var/log/containerd.log)"
    nohup containerd >/var/log/containerd.log 2>&1 &
  fi
  for _ in $(seq 100); do [ -S /run/containerd/containerd.sock ] && break; sleep 0.1; done
fi

go run ./hack/busybox-image -o /tmp/minilet-busybox.tar
minilet images import /tmp/minilet-busybox.tar

if ! minilet get pods -A >/dev/null 2>&1; then
  if $systemd; then systemctl restart minilet; else
    echo "starting minilet (log: /var/log/minilet.log)"
    nohup minilet daemon >/var/log/minilet.log 2>&1 &
  fi
  for _ in $(seq 100); do minilet get pods -A >/dev/null 2>&1 && break; sleep 0.1; done
fi

install -m 0644 examples/hello.yaml /etc/minilet/hello.yaml
for _ in $(seq 100); do
  minilet get pods hello 2>/dev/null | grep -q Running && break
  sleep 0.2
done
minilet get pods -o wide
echo
echo "The pod answers on the host: curl http://127.0.0.1:18080/ (or http://$(hostname -I | cut -d' ' -f1):18080/)"
