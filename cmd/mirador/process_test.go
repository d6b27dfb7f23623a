package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"
)

// TestMain lets the test binary act as the mirador binary: tests re-exec it
// with MIRADOR_TEST_MAIN=1 to get a real server process running main's code.
func TestMain(m *testing.M) {
	if os.Getenv("MIRADOR_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// miradorProcess is a server running as a child process.
type miradorProcess struct {
	cmd    *exec.Cmd
	addr   string
	mu     sync.Mutex
	stderr bytes.Buffer
	exited chan error
}

var listenLine = regexp.MustCompile(`msg=listening listener=http addr=(\S+)`)

func startMirador(t *testing.T, dataDir string, extra ...string) *miradorProcess {
	t.Helper()
	args := append([]string{"server", "--data-dir", dataDir, "--http-addr", "127.0.0.1:0", "--otlp-http-addr", "", "--otlp-grpc-addr", "", "--xray-udp-addr", "",
		"--metrics.self-scrape-interval", "0s"}, extra...)
	p := &miradorProcess{cmd: exec.Command(os.Args[0], args...), exited: make(chan error, 1)}
	p.cmd.Env = append(os.Environ(), "MIRADOR_TEST_MAIN=1")
	pipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		p.exited <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
		}
	})
	select {
	case p.addr = <-addr:
	case err := <-p.exited:
		t.Fatalf("mirador exited before listening: %v\n%s", err, p.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("mirador did not start listening:\n%s", p.log())
	}
	return p
}

func (p *miradorProcess) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func (p *miradorProcess) url() string { return "http://" + p.addr }

func writeClient(t *testing.T, base string) remote.WriteClient {
	t.Helper()
	u, _ := url.Parse(base + "/prometheus/api/v1/write")
	c, err := remote.NewWriteClient("crash-test", &remote.ClientConfig{URL: &config_util.URL{URL: u}, Timeout: model.Duration(5 * time.Second), WriteProtoMsg: remoteapi.WriteV1MessageType})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// batch is request i: every series gets value i at t0 + i×100ms.
func batch(t *testing.T, series, i int, t0 time.Time) []byte {
	var req prompb.WriteRequest
	for s := 0; s < series; s++ {
		req.Timeseries = append(req.Timeseries, prompb.TimeSeries{
			Labels:  []prompb.Label{{Name: "__name__", Value: "crash_total"}, {Name: "series", Value: fmt.Sprint(s)}},
			Samples: []prompb.Sample{{Timestamp: t0.Add(time.Duration(i) * 100 * time.Millisecond).UnixMilli(), Value: float64(i)}},
		})
	}
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, raw)
}

func queryValues(t *testing.T, base, expr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/prometheus/api/v1/query?" + url.Values{"query": {expr}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Data struct {
			Result []struct {
				Metric model.Metric     `json:"metric"`
				Value  model.SamplePair `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &r) != nil {
		t.Fatalf("query %s: %d %s", expr, resp.StatusCode, body)
	}
	out := map[string]float64{}
	for _, s := range r.Data.Result {
		out[s.Metric.String()] = float64(s.Value.Value)
	}
	return out
}

func TestKill9KeepsEveryAcknowledgedSample(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	p := startMirador(t, dir)
	const series = 50
	t0 := time.Now().Add(-30 * time.Minute).Truncate(time.Second) // room for 18,000 batches before now
	c := writeClient(t, p.url())

	acked := make(chan int, 1)
	go func() {
		n := 0
		for ; n < 15000; n++ {
			if _, err := c.Store(context.Background(), batch(t, series, n, t0), 0); err != nil {
				break // the server is gone
			}
		}
		acked <- n
	}()
	time.Sleep(1500 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	n := <-acked
	if n < 10 {
		t.Fatalf("only %d batches acknowledged before the kill; the test proves nothing", n)
	}

	p2 := startMirador(t, dir)
	counts := queryValues(t, p2.url(), `count_over_time(crash_total[2h])`)
	if len(counts) != series {
		t.Fatalf("%d series after restart, want %d", len(counts), series)
	}
	for s, got := range counts {
		// Every acknowledged batch is present; the one in flight at the kill
		// may or may not be, but never half of it.
		if got != float64(n) && got != float64(n+1) {
			t.Errorf("%s has %v samples after kill -9, want %d acknowledged (or %d)", s, got, n, n+1)
		}
	}
	if spread := queryValues(t, p2.url(), `max(count_over_time(crash_total[2h])) - min(count_over_time(crash_total[2h]))`); spread["{}"] != 0 {
		t.Errorf("a batch was stored partially: spread %v", spread)
	}
	t.Logf("%d acknowledged batches of %d samples survived kill -9", n, series)
}

func TestSIGTERMShutsDownGracefully(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	p := startMirador(t, dir)
	now := time.Now()
	if _, err := writeClient(t, p.url()).Store(context.Background(), batch(t, 3, 0, now), 0); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.log())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no exit 30s after SIGTERM:\n%s", p.log())
	}
	if !strings.Contains(p.log(), "msg=stopped") {
		t.Errorf("no clean stop logged:\n%s", p.log())
	}
	p2 := startMirador(t, dir)
	if got := queryValues(t, p2.url(), "crash_total"); len(got) != 3 {
		t.Errorf("after restart: %v", got)
	}
}

func TestCLIQueryAndKeysAgainstAServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	var out bytes.Buffer
	if code := run([]string{"keys", "create", "--data-dir", dir, "--tenant", "ops", "--scope", "read,ingest"}, &out, io.Discard); code != 0 {
		t.Fatalf("keys create: exit %d: %s", code, out.String())
	}
	secret := regexp.MustCompile(`mir_\S+`).FindString(out.String())
	if secret == "" {
		t.Fatalf("no secret in %q", out.String())
	}
	p := startMirador(t, dir)

	// Write as tenant ops through the key, then query with the CLI.
	u, _ := url.Parse(p.url() + "/prometheus/api/v1/write")
	c, err := remote.NewWriteClient("cli", &remote.ClientConfig{URL: &config_util.URL{URL: u}, Timeout: model.Duration(5 * time.Second),
		HTTPClientConfig: config_util.HTTPClientConfig{Authorization: &config_util.Authorization{Type: "Bearer", Credentials: config_util.Secret(secret)}}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := c.Store(context.Background(), batch(t, 2, 0, now.Add(-30*time.Second)), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Store(context.Background(), batch(t, 2, 150, now.Add(-30*time.Second)), 0); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	query := func(args ...string) int {
		stdout.Reset()
		stderr.Reset()
		return run(append([]string{"query", "--url", p.url()}, args...), &stdout, &stderr)
	}
	if code := query("--key", secret, "crash_total"); code != 0 || !strings.Contains(stdout.String(), "crash_total{series=\"1\"}  150\n") {
		t.Errorf("table: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if code := query("--key", secret, "--output", "json", "sum(crash_total)"); code != 0 {
		t.Fatalf("json: exit %d %s", code, stderr.String())
	}
	var js struct {
		ResultType string `json:"resultType"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &js); err != nil || js.ResultType != "vector" {
		t.Errorf("json output %q: %v", stdout.String(), err)
	}
	if code := query("--key", secret, "--range", "1m", "--step", "15s", "--time", fmt.Sprint(now.Unix()), "crash_total"); code != 0 || strings.Count(stdout.String(), `crash_total{series="0"}`) < 2 {
		t.Errorf("range: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if code := query("crash_total"); code != 1 || !strings.Contains(stderr.String(), "unauthorized") || !strings.Contains(stderr.String(), "mirador keys create") {
		t.Errorf("no key: exit %d %s", code, stderr.String())
	}
	if code := query("--key", secret, "sum(crash_total"); code != 1 || !strings.Contains(stderr.String(), "parse error") {
		t.Errorf("bad expression: exit %d %s", code, stderr.String())
	}
}

func TestVersionAndUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "mirador ") {
		t.Errorf("version: %d %q", code, out.String())
	}
	if code := run([]string{"serve"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), `unknown command "serve"`) {
		t.Errorf("unknown command: %d %q", code, errOut.String())
	}
	out.Reset()
	if code := run([]string{"server", "--help"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "--otlp-grpc-addr") {
		t.Errorf("server --help: %d %q", code, out.String())
	}
	errOut.Reset()
	if code := run([]string{"server", "--metrics.retention-time", "forever"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "--metrics.retention-time") {
		t.Errorf("invalid flag value: %d %q", code, errOut.String())
	}
}
