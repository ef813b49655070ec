package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// probeFloorRounds is how many times the floor probes each target.
const probeFloorRounds = 20

// probeFloor is the CPU one probe costs at the least on this machine: the
// bench process itself opens TCP connections to the pods' port 8080 and
// closes them (a tcpSocket probe) or sends a minimal HTTP GET and reads
// the answer (an httpGet probe), and divides its CPU time (user + system,
// getrusage) by the probes. Much of it is the kernel's: the TCP handshake
// and teardown through the veth pair, the bridge and netfilter run in the
// prober's system time, for any prober.
type probeFloor struct {
	// paced is the CPU per probe of the bench's mix (per pod two
	// tcpSocket probes and one httpGet) sent at the agent's rate, one
	// after another from one goroutine woken by a ticker: the least a Go
	// prober pays, with the wake-ups and cold caches of probes spread
	// over time.
	paced float64
	// tcp and http are the CPU per probe in a tight loop, warm: nearly
	// only the system calls.
	tcp, http float64
}

// probeFloorWindow is how long the paced floor runs.
const probeFloorWindow = 6 * time.Second

// measureProbeFloor measures the floor against ips at rate probes per
// second.
func measureProbeFloor(ctx context.Context, ips []string, rate float64) (probeFloor, error) {
	var f probeFloor
	if len(ips) == 0 {
		return f, fmt.Errorf("probe floor: no pod IPs")
	}
	var err error
	if f.paced, err = pacedCPU(ctx, ips, rate); err != nil {
		return f, fmt.Errorf("probe floor: %w", err)
	}
	if f.tcp, err = cpuPerCall(ctx, ips, tcpConnect); err != nil {
		return f, fmt.Errorf("probe floor, tcp: %w", err)
	}
	if f.http, err = cpuPerCall(ctx, ips, httpGet); err != nil {
		return f, fmt.Errorf("probe floor, http: %w", err)
	}
	return f, nil
}

// pacedCPU sends the probe mix to ips at rate per second for
// probeFloorWindow and returns the process's CPU per probe, in ms.
func pacedCPU(ctx context.Context, ips []string, rate float64) (float64, error) {
	mix := []func(context.Context, string) error{tcpConnect, tcpConnect, httpGet}
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	t0, err := processCPU()
	if err != nil {
		return 0, err
	}
	n := 0
	for end := time.Now().Add(probeFloorWindow); time.Now().Before(end); n++ {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-tick.C:
		}
		addr := net.JoinHostPort(ips[(n/len(mix))%len(ips)], "8080")
		if err := mix[n%len(mix)](ctx, addr); err != nil {
			return 0, err
		}
	}
	t1, err := processCPU()
	if err != nil {
		return 0, err
	}
	return float64((t1 - t0).Microseconds()) / 1000 / float64(n), nil
}

// cpuPerCall runs call against every address probeFloorRounds times and
// returns the process's CPU per call, in ms.
func cpuPerCall(ctx context.Context, ips []string, call func(ctx context.Context, addr string) error) (float64, error) {
	// One round first, untimed: ARP entries, lazily made runtime state.
	for _, ip := range ips {
		if err := call(ctx, net.JoinHostPort(ip, "8080")); err != nil {
			return 0, err
		}
	}
	t0, err := processCPU()
	if err != nil {
		return 0, err
	}
	n := 0
	for range probeFloorRounds {
		for _, ip := range ips {
			if err := call(ctx, net.JoinHostPort(ip, "8080")); err != nil {
				return 0, err
			}
			n++
		}
	}
	t1, err := processCPU()
	if err != nil {
		return 0, err
	}
	return float64((t1 - t0).Microseconds()) / 1000 / float64(n), nil
}

func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

var floorDialer = net.Dialer{Timeout: 5 * time.Second}

func tcpConnect(ctx context.Context, addr string) error {
	c, err := floorDialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

func httpGet(ctx context.Context, addr string) error {
	c, err := floorDialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return err
	}
	if _, err := io.WriteString(c, "GET /index.html HTTP/1.1\r\nHost: "+addr+"\r\nConnection: close\r\n\r\n"); err != nil {
		return err
	}
	var buf [4096]byte
	n, err := io.ReadAtLeast(c, buf[:], len("HTTP/1.1 200"))
	if err != nil {
		return fmt.Errorf("GET %s: %w", addr, err)
	}
	if status := string(buf[:len("HTTP/1.1 200")]); status != "HTTP/1.1 200" && status != "HTTP/1.0 200" {
		return fmt.Errorf("GET %s: answered %q", addr, buf[:n])
	}
	_, err = io.CopyBuffer(io.Discard, c, buf[:])
	return err
}
