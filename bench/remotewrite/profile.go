package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// fetchCPUProfile records the server's CPU profile for d through its
// /debug/pprof/profile endpoint into file.
func fetchCPUProfile(ctx context.Context, baseURL string, d time.Duration, file string) error {
	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", baseURL, int(d.Seconds()))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch CPU profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("fetch CPU profile: %s answered 404: this server serves no /debug/pprof", url)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return fmt.Errorf("fetch CPU profile: %s answered %s: %s", url, resp.Status, bytes.TrimSpace(msg))
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("fetch CPU profile: %w", err)
	}
	return f.Close()
}

// profile summarises a CPU profile: where the server's CPU time went.
type profile struct {
	File    string  `json:"file"`
	Seconds float64 `json:"seconds"`
	// Flat is the share of CPU time in each function itself; Cumulative in
	// it and everything it called; Packages sums Flat by Go package.
	Flat       []profileEntry `json:"flat"`
	Cumulative []profileEntry `json:"cumulative"`
	Packages   []profileEntry `json:"packages"`
}

type profileEntry struct {
	Name    string  `json:"name"`
	Percent float64 `json:"percent"`
}

// readProfile summarises file with `go tool pprof -top`, keeping the top
// entries of each list.
func readProfile(ctx context.Context, file string, top int) (*profile, error) {
	p := &profile{File: file}
	flat, err := pprofTop(ctx, file, "-flat")
	if err != nil {
		return nil, err
	}
	cum, err := pprofTop(ctx, file, "-cum")
	if err != nil {
		return nil, err
	}
	byPackage := map[string]float64{}
	for _, e := range flat {
		byPackage[packageOf(e.Name)] += e.Percent
	}
	for name, pct := range byPackage {
		p.Packages = append(p.Packages, profileEntry{name, pct})
	}
	byPercent := func(a, b profileEntry) int { return cmp.Compare(b.Percent, a.Percent) }
	slices.SortFunc(p.Packages, byPercent)
	p.Flat = flat[:min(top, len(flat))]
	p.Cumulative = cum[:min(top, len(cum))]
	p.Packages = p.Packages[:min(top, len(p.Packages))]
	return p, nil
}

// pprofTop returns every function of the profile with its flat or
// cumulative share, in the order `go tool pprof -top` sorts them.
func pprofTop(ctx context.Context, file, sort string) ([]profileEntry, error) {
	cmd := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", sort, "-nodecount=100000", "-nodefraction=0", "-edgefraction=0", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go tool pprof: %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	var entries []profileEntry
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		// "     1.20s 12.00% 12.00%      1.50s 15.00%  runtime.mallocgc"
		f := strings.Fields(sc.Text())
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") || !strings.HasSuffix(f[4], "%") {
			continue
		}
		col := f[1]
		if sort == "-cum" {
			col = f[4]
		}
		pct, err := strconv.ParseFloat(strings.TrimSuffix(col, "%"), 64)
		if err != nil {
			continue
		}
		entries = append(entries, profileEntry{Name: strings.Join(f[5:], " "), Percent: pct})
	}
	return entries, sc.Err()
}

// packageOf returns the Go package of a function name such as
// github.com/prometheus/prometheus/tsdb.(*Head).Append.
func packageOf(sym string) string {
	dir, rest := "", sym
	if i := strings.LastIndexByte(sym, '/'); i >= 0 {
		dir, rest = sym[:i+1], sym[i+1:]
	}
	if i := strings.IndexByte(rest, '.'); i >= 0 {
		rest = rest[:i]
	}
	return dir + rest
}

func (p *profile) writeText(out io.Writer) {
	fmt.Fprintf(out, "Server CPU profile, first %s of the backfill (%s)\n", seconds(p.Seconds), p.File)
	section := func(title string, entries []profileEntry) {
		fmt.Fprintf(out, "  %s\n", title)
		for _, e := range entries {
			fmt.Fprintf(out, "  %5.1f%%  %s\n", e.Percent, e.Name)
		}
	}
	section("flat, by package:", p.Packages)
	section("flat, by function:", p.Flat)
	section("cumulative (with callees):", p.Cumulative)
	fmt.Fprintln(out)
}
