package benchproc

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

// FetchCPUProfile records the server's CPU profile for d (whole seconds)
// through its /debug/pprof/profile endpoint at baseURL into file. It
// returns when the profile is complete, after about d.
func FetchCPUProfile(ctx context.Context, baseURL string, d time.Duration, file string) error {
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

// Profile summarises a CPU profile: where the server's CPU time went.
type Profile struct {
	File    string  `json:"file"`
	Seconds float64 `json:"seconds"`
	// Flat is the share of CPU time in each function itself; Cumulative in
	// it and everything it called; Packages sums Flat by Go package.
	Flat       []ProfileEntry `json:"flat"`
	Cumulative []ProfileEntry `json:"cumulative"`
	Packages   []ProfileEntry `json:"packages"`
}

// ProfileEntry is one function's or package's share of a profile, in
// percent of the profile's total.
type ProfileEntry struct {
	Name    string  `json:"name"`
	Percent float64 `json:"percent"`
}

// ReadProfile summarises file with `go tool pprof -top`, keeping the top
// entries of each list. It needs the go command.
func ReadProfile(ctx context.Context, file string, top int) (*Profile, error) {
	p := &Profile{File: file}
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
		p.Packages = append(p.Packages, ProfileEntry{name, pct})
	}
	slices.SortFunc(p.Packages, func(a, b ProfileEntry) int {
		return cmp.Or(cmp.Compare(b.Percent, a.Percent), strings.Compare(a.Name, b.Name))
	})
	p.Flat = flat[:min(top, len(flat))]
	p.Cumulative = cum[:min(top, len(cum))]
	p.Packages = p.Packages[:min(top, len(p.Packages))]
	return p, nil
}

// pprofTop returns every function of the profile with its flat or
// cumulative share, in the order `go tool pprof -top` sorts them.
func pprofTop(ctx context.Context, file, sort string) ([]ProfileEntry, error) {
	cmd := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", sort, "-nodecount=100000", "-nodefraction=0", "-edgefraction=0", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go tool pprof: %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return parsePprofTop(out, sort == "-cum")
}

// parsePprofTop reads the table of `go tool pprof -top`, taking the
// cumulative column if cum, else the flat one. Other lines are skipped.
func parsePprofTop(out []byte, cum bool) ([]ProfileEntry, error) {
	var entries []ProfileEntry
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		// "     1.20s 12.00% 12.00%      1.50s 15.00%  runtime.mallocgc"
		f := strings.Fields(sc.Text())
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") || !strings.HasSuffix(f[4], "%") {
			continue
		}
		col := f[1]
		if cum {
			col = f[4]
		}
		pct, err := strconv.ParseFloat(strings.TrimSuffix(col, "%"), 64)
		if err != nil {
			continue
		}
		entries = append(entries, ProfileEntry{Name: strings.Join(f[5:], " "), Percent: pct})
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

// WriteText prints the summary as three lists under the heading "Server
// CPU profile, <what> (<file>)".
func (p *Profile) WriteText(out io.Writer, what string) {
	fmt.Fprintf(out, "Server CPU profile, %s (%s)\n", what, p.File)
	section := func(title string, entries []ProfileEntry) {
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
