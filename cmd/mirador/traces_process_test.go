package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// otlpAddr returns the OTLP/HTTP address a child server logged.
func (p *miradorProcess) otlpAddr(t *testing.T) string {
	t.Helper()
	re := regexp.MustCompile(`msg=listening listener=otlp_http addr=(\S+)`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(p.log()); m != nil {
			return m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no otlp_http listener logged:\n%s", p.log())
	return ""
}

// traceOf builds one trace of n spans: sender s, batch i.
func traceOf(s, i, n int, start time.Time) (ptrace.Traces, [16]byte) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", fmt.Sprintf("svc-%d", s))
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	id := [16]byte{0: byte(s + 1), 4: byte(i >> 16), 5: byte(i >> 8), 6: byte(i), 15: 1}
	for j := range n {
		sp := spans.AppendEmpty()
		sp.SetTraceID(id)
		sp.SetSpanID([8]byte{0: byte(j + 1), 7: 1})
		if j > 0 {
			sp.SetParentSpanID([8]byte{0: 1, 7: 1})
		}
		sp.SetName(fmt.Sprintf("op-%d", j))
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Millisecond)))
	}
	return td, id
}

// spanCount returns how many spans GET /api/v1/traces/{id} returns.
func spanCount(t *testing.T, base string, id [16]byte) int {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/api/v1/traces/%x", base, id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return 0
	}
	var out struct {
		Data struct{ SpanCount int }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("trace %x: %d %v", id, resp.StatusCode, err)
	}
	return out.Data.SpanCount
}

// TestKill9KeepsEveryAcknowledgedSpan SIGKILLs a server while senders
// export traces over OTLP/HTTP, restarts it, and looks up every
// acknowledged trace by id: all its spans are there.
func TestKill9KeepsEveryAcknowledgedSpan(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	p := startMirador(t, dir, "--otlp-http-addr", "127.0.0.1:0")
	otlpURL := "http://" + p.otlpAddr(t) + "/v1/traces"
	const senders, perTrace = 3, 20
	start := time.Now().Add(-time.Hour)
	var (
		mu    sync.Mutex
		acked [][16]byte
		wg    sync.WaitGroup
	)
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				td, id := traceOf(s, i, perTrace, start)
				body, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
				resp, err := http.Post(otlpURL, "application/x-protobuf", bytes.NewReader(body))
				if err != nil {
					return // the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("sender %d trace %d: %d", s, i, resp.StatusCode)
					return
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	wg.Wait()
	if len(acked) < 10 {
		t.Fatalf("only %d traces acknowledged before the kill; the test proves nothing", len(acked))
	}
	p2 := startMirador(t, dir)
	for _, id := range acked {
		if n := spanCount(t, p2.url(), id); n != perTrace {
			t.Errorf("trace %x: %d spans after kill -9, want %d", id, n, perTrace)
		}
	}
	t.Logf("%d acknowledged traces of %d spans survived kill -9", len(acked), perTrace)
}

func TestCLITracesGetSearchQuery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	p := startMirador(t, t.TempDir(), "--otlp-http-addr", "127.0.0.1:0")
	td, id := traceOf(0, 7, 3, time.Now().Add(-time.Minute))
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(2).Status().SetCode(ptrace.StatusCodeError)
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(2).Attributes().PutInt("http.response.status_code", 503)
	body, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	resp, err := http.Post("http://"+p.otlpAddr(t)+"/v1/traces", "application/x-protobuf", bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("export: %v %v", err, resp)
	}
	resp.Body.Close()
	env := []string{"MIRADOR_URL=" + p.url()}
	hexID := fmt.Sprintf("%x", id)

	var out strings.Builder
	if err := runTraces(context.Background(), []string{"get", hexID}, env, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "3 spans, 1 errors") || !regexp.MustCompile(`(?m)^op-0 .*\n  op-1 `).MatchString(out.String()) {
		t.Errorf("traces get output:\n%s", out.String())
	}
	out.Reset()
	if err := runTraces(context.Background(), []string{"search", "--service", "svc-0", "--attr", "http.response.status_code>=500", "--error"}, env, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), hexID) || !strings.Contains(out.String(), "1 traces") {
		t.Errorf("traces search output:\n%s", out.String())
	}
	out.Reset()
	if err := runTraces(context.Background(), []string{"query", "stats count() as n by status", "--output", "json"}, env, &out); err != nil || !strings.Contains(out.String(), `"n": 2`) {
		t.Errorf("traces query: %v\n%s", err, out.String())
	}
	if err := runTraces(context.Background(), []string{"get", "nope"}, env, &out); err == nil || !strings.Contains(err.Error(), "trace id") {
		t.Errorf("bad id: %v", err)
	}
}
