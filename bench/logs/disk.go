package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/miradorhq/mirador/bench/internal/benchproc"
)

// The event store's directory, <data-dir>/events: parts/ holds the
// immutable Parquet parts, wal/ the write-ahead log, MANIFEST.json lists
// the registered parts with their rows and sizes.

// storeGauges are the event store's own metrics, from the server's
// /metrics.
type storeGauges struct {
	HeadBytes   float64 `json:"head_bytes"`
	Parts       float64 `json:"parts"`
	PartBytes   float64 `json:"part_bytes"`
	Appended    float64 `json:"appended_records"`
	Flushes     float64 `json:"flushes"`
	Compactions float64 `json:"compactions"`
}

var storeMetricNames = map[string]func(*storeGauges) *float64{
	"mirador_eventstore_head_bytes":             func(g *storeGauges) *float64 { return &g.HeadBytes },
	"mirador_eventstore_parts":                  func(g *storeGauges) *float64 { return &g.Parts },
	"mirador_eventstore_part_bytes":             func(g *storeGauges) *float64 { return &g.PartBytes },
	"mirador_eventstore_appended_records_total": func(g *storeGauges) *float64 { return &g.Appended },
	"mirador_eventstore_flushes_total":          func(g *storeGauges) *float64 { return &g.Flushes },
	"mirador_eventstore_compactions_total":      func(g *storeGauges) *float64 { return &g.Compactions },
}

// readStoreGauges scrapes the server's /metrics.
func readStoreGauges(ctx context.Context, client *http.Client, baseURL string) (storeGauges, error) {
	var g storeGauges
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/metrics", nil)
	if err != nil {
		return g, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := client.Do(req)
	if err != nil {
		return g, fmt.Errorf("GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return g, fmt.Errorf("GET /metrics: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return g, fmt.Errorf("GET /metrics: %s: %s", resp.Status, quote(body))
	}
	return parseStoreGauges(body)
}

// parseStoreGauges reads the event store's metrics from a text exposition.
// Every one must be there, or the wait for flushes could never end.
func parseStoreGauges(text []byte) (storeGauges, error) {
	var g storeGauges
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		return g, fmt.Errorf("parse /metrics: %w", err)
	}
	for name, field := range storeMetricNames {
		f, ok := families[name]
		if !ok || len(f.GetMetric()) == 0 {
			return g, fmt.Errorf("/metrics has no %s: this server's event store does not expose it", name)
		}
		*field(&g) = 0
		for _, m := range f.GetMetric() {
			*field(&g) += metricValue(m)
		}
	}
	return g, nil
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue()
	}
	return 0
}

// flushWait is how the wait for the heads to reach parts went.
type flushWait struct {
	Settled          bool        `json:"settled"`
	Reason           string      `json:"reason,omitempty"` // why not
	Seconds          float64     `json:"seconds"`
	ServerCPUSeconds float64     `json:"server_cpu_seconds"`
	Final            storeGauges `json:"final"`
	// The server's memory at the end, peak since the wait began.
	Memory benchproc.Memory `json:"server_memory"`
}

// waitFlushed polls the store's metrics until the heads are empty, at
// least want records were appended and the parts have not changed for
// settle (background compaction has merged what it merges), or timeout
// passes. Heads reach parts when they grow past the memory budget or
// age past --eventstore.head-max-age.
func waitFlushed(ctx context.Context, client *http.Client, srv *benchproc.Server, want int64, settle, timeout time.Duration) (flushWait, error) {
	var w flushWait
	start, err := srv.Snapshot()
	if err != nil {
		return w, err
	}
	deadline := start.Wall.Add(timeout)
	var prev storeGauges
	stableSince := time.Time{}
	lastLog := time.Now()
	for {
		g, err := readStoreGauges(ctx, client, srv.URL())
		if err != nil {
			return w, err
		}
		now := time.Now()
		flushed := g.HeadBytes == 0 && g.Appended >= float64(want)
		if !flushed || g.Parts != prev.Parts || g.PartBytes != prev.PartBytes || g.Compactions != prev.Compactions {
			stableSince = now
		}
		prev = g
		w.Final = g
		if flushed && now.Sub(stableSince) >= settle {
			w.Settled = true
			break
		}
		if now.After(deadline) {
			w.Reason = fmt.Sprintf("after %s: %s in the heads, %.0f of %d records appended, parts last changed %s ago",
				timeout, benchproc.BytesText(int64(g.HeadBytes)), g.Appended, want, now.Sub(stableSince).Round(time.Second))
			break
		}
		if now.Sub(lastLog) >= 15*time.Second {
			slog.Info("waiting for the heads to flush and compaction to settle", "head_bytes", int64(g.HeadBytes), "parts", g.Parts, "part_bytes", int64(g.PartBytes))
			lastLog = now
		}
		select {
		case <-ctx.Done():
			return w, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	end, err := srv.Snapshot()
	if err != nil {
		return w, err
	}
	wall, cpu, _ := end.Since(start)
	w.Seconds, w.ServerCPUSeconds = wall.Seconds(), cpu.Seconds()
	return w, nil
}

// diskUsage is the event store's directory once the server has stopped.
type diskUsage struct {
	TotalBytes int64 `json:"total_bytes"` // all of events/
	PartBytes  int64 `json:"part_bytes"`  // events/parts/
	WALBytes   int64 `json:"wal_bytes"`   // events/wal/
	OtherBytes int64 `json:"other_bytes"` // the manifest and anything else
	// From the manifest, if it could be read.
	Parts         int            `json:"parts"`
	PartRows      int64          `json:"part_rows"`
	PartsByLevel  map[int]int    `json:"parts_by_level,omitempty"`
	LargestPart   manifestPart   `json:"largest_part"`
	ManifestError string         `json:"manifest_error,omitempty"`
	Files         map[string]int `json:"files_by_directory,omitempty"`
}

// measureDisk sizes dir (the event store's directory) and reads its
// manifest for the parts' rows.
func measureDisk(dir string) (diskUsage, error) {
	var d diskUsage
	var err error
	if d.TotalBytes, err = benchproc.DirSize(dir); err != nil {
		return d, err
	}
	if d.PartBytes, err = benchproc.DirSize(filepath.Join(dir, "parts")); err != nil {
		return d, err
	}
	if d.WALBytes, err = benchproc.DirSize(filepath.Join(dir, "wal")); err != nil {
		return d, err
	}
	d.OtherBytes = d.TotalBytes - d.PartBytes - d.WALBytes
	d.Files = map[string]int{}
	_ = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, filepath.Dir(path))
			d.Files[rel]++
		}
		return nil
	})
	b, err := os.ReadFile(filepath.Join(dir, "MANIFEST.json"))
	if err == nil {
		var parts []manifestPart
		if parts, err = decodeManifest(b); err == nil {
			d.PartsByLevel = map[int]int{}
			for _, p := range parts {
				if p.Dataset != "logs" {
					continue
				}
				d.Parts++
				d.PartRows += p.Rows
				d.PartsByLevel[p.Level]++
				if p.Size > d.LargestPart.Size {
					d.LargestPart = p
				}
			}
		}
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		d.ManifestError = err.Error()
	}
	return d, nil
}

// manifestPart is a part as MANIFEST.json lists it.
type manifestPart struct {
	ID      string `json:"id"`
	Tenant  string `json:"tenant"`
	Dataset string `json:"dataset"`
	Rows    int64  `json:"rows"`
	Size    int64  `json:"size"`
	MinTime int64  `json:"minTime"`
	MaxTime int64  `json:"maxTime"`
	Level   int    `json:"level"`
}

// decodeManifest reads the parts of a MANIFEST.json.
func decodeManifest(b []byte) ([]manifestPart, error) {
	var m struct {
		Parts []manifestPart `json:"parts"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read the event store's MANIFEST.json: %w", err)
	}
	for _, p := range m.Parts {
		if p.Rows < 0 || p.Size < 0 {
			return nil, fmt.Errorf("read the event store's MANIFEST.json: part %q has %d rows and %d bytes", p.ID, p.Rows, p.Size)
		}
	}
	return m.Parts, nil
}
