package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// options are the driver's flags.
type options struct {
	Records      int64         `json:"records"`
	OTLPFraction float64       `json:"otlp_fraction"`
	Senders      int           `json:"senders"`
	Batch        int           `json:"batch"`
	Gzip         bool          `json:"gzip"`
	Seed         uint64        `json:"seed"`
	LogRate      float64       `json:"log_rate"`
	Binary       string        `json:"binary,omitempty"`
	ServerArgs   stringList    `json:"server_args,omitempty"`
	HeadMaxAge   time.Duration `json:"head_max_age"`
	Settle       time.Duration `json:"settle"`
	FlushTimeout time.Duration `json:"flush_timeout"`
	QueryRuns    int           `json:"query_runs"`
	Pregenerate  string        `json:"pregenerate"`
	ProfileFor   time.Duration `json:"cpuprofile_duration"`
	ReportPath   string        `json:"report,omitempty"`
	JSONPath     string        `json:"json,omitempty"`
	Keep         bool          `json:"keep"`
}

// commandLine renders the options as flags, defaults included, so that a
// report says exactly what ran.
func (o options) commandLine() string {
	args := []string{
		fmt.Sprintf("--records %d", o.Records),
		fmt.Sprintf("--otlp-fraction %g", o.OTLPFraction),
		fmt.Sprintf("--senders %d", o.Senders),
		fmt.Sprintf("--batch %d", o.Batch),
		fmt.Sprintf("--gzip=%v", o.Gzip),
		fmt.Sprintf("--seed %d", o.Seed),
		fmt.Sprintf("--log-rate %g", o.LogRate),
		fmt.Sprintf("--head-max-age %s", o.HeadMaxAge),
		fmt.Sprintf("--settle %s", o.Settle),
		fmt.Sprintf("--flush-timeout %s", o.FlushTimeout),
		fmt.Sprintf("--query-runs %d", o.QueryRuns),
		fmt.Sprintf("--pregenerate %s", o.Pregenerate),
		fmt.Sprintf("--cpuprofile-duration %s", o.ProfileFor),
	}
	for _, a := range o.ServerArgs {
		args = append(args, "--server-arg="+a)
	}
	return strings.Join(args, " ")
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	fs.Int64Var(&o.Records, "records", 10_000_000, "records to ingest in all; the queries run over all of them")
	fs.Float64Var(&o.OTLPFraction, "otlp-fraction", 0.2, "share of the records sent over OTLP/HTTP (phase 2) after the rest went over NDJSON (phase 1)")
	fs.IntVar(&o.Senders, "senders", 4, "concurrent senders")
	fs.IntVar(&o.Batch, "batch", 2000, "records per request (NDJSON: on average; busy streams send more, quiet ones fewer)")
	fs.BoolVar(&o.Gzip, "gzip", false, "send request bodies gzip-compressed (Content-Encoding: gzip)")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the generated records")
	fs.Float64Var(&o.LogRate, "log-rate", 2000, "records per second of log time: how fast the simulated fleet logs, which sets the time span the records cover")
	fs.StringVar(&o.Binary, "binary", "", "mirador binary to run (default: build ./cmd/mirador into the temporary directory)")
	fs.Var(&o.ServerArgs, "server-arg", "extra flag for the server (repeatable), e.g. --server-arg=--eventstore.head-max-bytes=512MiB (the driver needs --log.level info)")
	fs.DurationVar(&o.HeadMaxAge, "head-max-age", 30*time.Second, "the server's --eventstore.head-max-age, so that the last heads reach parts soon after the ingest")
	fs.DurationVar(&o.Settle, "settle", 75*time.Second, "after the heads are flushed, how long the parts must stay unchanged (no compaction) before the disk is measured")
	fs.DurationVar(&o.FlushTimeout, "flush-timeout", 15*time.Minute, "longest wait for the heads to flush and compaction to settle")
	fs.IntVar(&o.QueryRuns, "query-runs", 10, "timed warm runs of each query (at least 5)")
	fs.StringVar(&o.Pregenerate, "pregenerate", "auto", "generate each phase's requests before timing it: always, never (generate while sending), or auto (if they fit in a third of the available memory)")
	fs.DurationVar(&o.ProfileFor, "cpuprofile-duration", 10*time.Second, "profile the server's CPU for this long from the start of each ingest phase (whole seconds; 0 disables)")
	fs.StringVar(&o.ReportPath, "report", "", "write the report as Markdown to this file (default bench/logs/REPORT.md in the checkout, or REPORT.md outside one)")
	fs.StringVar(&o.JSONPath, "json", "", "also write the report as JSON to this file")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temporary directory with the server's data, log and profiles")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case o.Records < 1:
		return o, fmt.Errorf("--records %d: need at least 1", o.Records)
	case o.OTLPFraction < 0 || o.OTLPFraction > 1:
		return o, fmt.Errorf("--otlp-fraction %g: must be between 0 and 1", o.OTLPFraction)
	case o.Senders < 1:
		return o, fmt.Errorf("--senders %d: need at least 1", o.Senders)
	case o.Batch < 1 || o.Batch > 100_000:
		return o, fmt.Errorf("--batch %d: must be between 1 and 100000", o.Batch)
	case o.LogRate <= 0 || o.LogRate > 1e9:
		return o, fmt.Errorf("--log-rate %g: must be positive and at most 1e9", o.LogRate)
	case o.HeadMaxAge < time.Second:
		return o, fmt.Errorf("--head-max-age %s: need at least 1s", o.HeadMaxAge)
	case o.Settle < 0 || o.FlushTimeout <= 0:
		return o, errors.New("--settle must not be negative and --flush-timeout must be positive")
	case o.QueryRuns < 5:
		return o, fmt.Errorf("--query-runs %d: need at least 5 for a median and a p99", o.QueryRuns)
	case o.ProfileFor != 0 && o.ProfileFor < time.Second:
		return o, fmt.Errorf("--cpuprofile-duration %s: need at least 1s, or 0 for no profile", o.ProfileFor)
	case o.Pregenerate != "auto" && o.Pregenerate != "always" && o.Pregenerate != "never":
		return o, fmt.Errorf("--pregenerate %q: want auto, always or never", o.Pregenerate)
	}
	return o, nil
}

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "logs:", err)
		os.Exit(2)
	}
	if o.ReportPath == "" {
		o.ReportPath = defaultReportPath()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "logs:", err)
		os.Exit(1)
	}
}

// defaultReportPath is bench/logs/REPORT.md in the module's checkout if
// the driver runs inside one, else REPORT.md.
func defaultReportPath() string {
	dir, err := os.Getwd()
	if err != nil {
		return "REPORT.md"
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/miradorhq/mirador\n") {
			return filepath.Join(dir, "bench", "logs", "REPORT.md")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "REPORT.md"
		}
		dir = parent
	}
}
