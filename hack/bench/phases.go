package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

// phaseSamples are, pod by pod, where a burst's time went: minilet's from
// its own log (info level) and containerd's TaskStart events, the lean
// floor's from its steps.
type phaseSamples struct {
	seen, sandbox, cni, app []float64 // minilet, ms
	lCNI, lPause, lApp      []float64 // lean floor, ms
}

// logLine is what the phases need of one line of the daemon's JSON log.
type logLine struct {
	TS   string          `json:"ts"`
	Msg  string          `json:"msg"`
	Pod  string          `json:"pod"`
	ID   string          `json:"id"`
	Took json.RawMessage `json:"took"` // "12.3ms" or seconds
}

// tookMs reads a zap duration field, written as a string or in seconds.
func tookMs(raw json.RawMessage) float64 {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		d, _ := time.ParseDuration(s)
		return ms(d)
	}
	var f float64
	_ = json.Unmarshal(raw, &f)
	return f * 1000
}

// logOffset is the daemon log's size: where a burst's lines start.
func (b *bench) logOffset() int64 {
	if b.d.logPath == "" {
		return -1
	}
	st, err := os.Stat(b.d.logPath)
	if err != nil {
		return -1
	}
	return st.Size()
}

// addMinilet reads the daemon's log from offset and adds each pod's
// phases: manifest written → worker has the pod ("pod added"), → sandbox
// running (record, directories, netns, CNI ADD beside the pause), →
// its app container's TaskStart.
func (p *phaseSamples) addMinilet(logPath string, offset int64, t0 time.Time, starts map[string]time.Time) error {
	if offset < 0 {
		return nil
	}
	f, err := os.Open(logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(offset, 0); err != nil {
		return err
	}
	type podTimes struct {
		added, sandbox time.Time
		cni            float64
		key            string
	}
	pods := map[string]*podTimes{}
	get := func(name string) *podTimes {
		if pods[name] == nil {
			pods[name] = &podTimes{}
		}
		return pods[name]
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Pod == "" {
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, l.TS)
		if err != nil {
			continue
		}
		name := l.Pod
		if _, n, ok := strings.Cut(name, "/"); ok {
			name = n // the network logger writes namespace/name
		}
		pt := get(name)
		switch l.Msg {
		case "pod added":
			pt.added = ts
		case "attached pod network":
			pt.cni = tookMs(l.Took)
		case "pod sandbox running":
			pt.sandbox = ts
		case "started container":
			if pt.key == "" {
				pt.key = podKey(l.ID)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	for _, pt := range pods {
		start := starts[pt.key+"-app0-0"]
		if pt.added.IsZero() || pt.sandbox.IsZero() || pt.key == "" || start.IsZero() {
			continue
		}
		p.seen = append(p.seen, ms(pt.added.Sub(t0)))
		p.sandbox = append(p.sandbox, ms(pt.sandbox.Sub(pt.added)))
		p.cni = append(p.cni, pt.cni)
		p.app = append(p.app, ms(start.Sub(pt.sandbox)))
	}
	return nil
}

// addLean adds the lean floor's steps.
func (p *phaseSamples) addLean(ts []leanTimes) {
	for _, t := range ts {
		p.lCNI = append(p.lCNI, ms(t.cni))
		p.lPause = append(p.lPause, ms(t.pause))
		p.lApp = append(p.lApp, ms(t.apps))
	}
}

// figures are one row per phase: median per pod, the 90th percentile in
// the note.
func (p *phaseSamples) figures(key string, pods int) []*Figure {
	if len(p.seen) == 0 {
		return nil
	}
	sum := func(a, b []float64) []float64 {
		out := make([]float64, len(a))
		for i := range a {
			out[i] = a[i] + b[i]
		}
		return out
	}
	rows := []struct {
		key, work string
		m, l      []float64
	}{
		{"seen", "manifest written → pod's worker has it", p.seen, nil},
		{"sandbox", "worker → sandbox running (record, dirs, netns, CNI ADD beside the pause)", p.sandbox, sum(p.lCNI, p.lPause)},
		{"cni", "of which CNI ADD", p.cni, p.lCNI},
		{"app", "sandbox running → app container's TaskStart", p.app, p.lApp},
	}
	var out []*Figure
	for _, r := range rows {
		what := fmt.Sprintf("%d pods at once, per pod: %s", pods, r.work)
		if pods == 1 {
			what = "1-container pod: " + r.work
		}
		f := newFigure(fmt.Sprintf("%s_phase_%s", key, r.key), what, "ms", r.m, r.l)
		f.Note = fmt.Sprintf("90th percentile: minilet %s ms", fmtNum(percentile(r.m, 90)))
		if r.l != nil {
			f.Note += fmt.Sprintf(", lean floor %s ms (its steps: CNI ADD, then pause create + start, then app create + start)", fmtNum(percentile(r.l, 90)))
		}
		out = append(out, f)
	}
	return out
}

// add takes one run's phases of minilet and the lean floor.
func (p *phaseSamples) add(b *bench, res map[string]startSample) error {
	m := res[sideMinilet].burst
	if err := p.addMinilet(b.d.logPath, m.logOffset, m.t0, m.starts); err != nil {
		return err
	}
	p.addLean(res[sideLean].burst.parts)
	return nil
}
