package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// logsCount returns `stats count() by sender` over the last two hours.
func logsCount(t *testing.T, base string) map[string]int {
	t.Helper()
	now := time.Now().UTC()
	body, _ := json.Marshal(map[string]any{
		"query": "stats count() as n by sender", "logGroups": []string{"crash"},
		"start": now.Add(-2 * time.Hour).Format(time.RFC3339), "end": now.Add(time.Minute).Format(time.RFC3339),
	})
	resp, err := http.Post(base+"/api/v1/logs/query", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		Status string
		Rows   []map[string]any
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != 200 || res.Status != "complete" {
		t.Fatalf("query: %d %v %+v", resp.StatusCode, err, res)
	}
	out := map[string]int{}
	for _, r := range res.Rows {
		out[fmt.Sprint(r["sender"])] = int(r["n"].(float64))
	}
	return out
}

// TestKill9KeepsEveryAcknowledgedLogRecord SIGKILLs a server while several
// senders write NDJSON batches, restarts it, and checks that every
// acknowledged record is there exactly once; then it corrupts the WAL's
// tail and checks the server still starts with the same records.
func TestKill9KeepsEveryAcknowledgedLogRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	p := startMirador(t, dir)
	const senders, perBatch = 4, 50
	t0 := time.Now().Add(-time.Hour)
	acked := make([]int, senders) // batches acknowledged per sender
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				var b strings.Builder
				for j := range perBatch {
					fmt.Fprintf(&b, `{"time":%d,"message":"batch %d record %d","sender":"s%d"}`+"\n", t0.Add(time.Duration(i*perBatch+j)*time.Millisecond).UnixMilli(), i, j, s)
				}
				resp, err := http.Post(p.url()+"/api/v1/logs/ingest?group=crash", "application/x-ndjson", strings.NewReader(b.String()))
				if err != nil {
					return // the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("sender %d batch %d: %d", s, i, resp.StatusCode)
					return
				}
				acked[s] = i + 1
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	wg.Wait()
	total := 0
	for _, n := range acked {
		total += n
	}
	if total < 10 {
		t.Fatalf("only %d batches acknowledged before the kill; the test proves nothing", total)
	}

	check := func(base, when string) {
		t.Helper()
		counts := logsCount(t, base)
		for s, n := range acked {
			got := counts[fmt.Sprintf("s%d", s)]
			// Every acknowledged batch is present once; the one in flight at
			// the kill may or may not be, but never half of it.
			if got != n*perBatch && got != (n+1)*perBatch {
				t.Errorf("%s: sender %d has %d records, want %d acknowledged (or %d)", when, s, got, n*perBatch, (n+1)*perBatch)
			}
		}
	}
	p2 := startMirador(t, dir)
	check(p2.url(), "after kill -9")
	if err := p2.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p2.exited

	// A torn write at the end of the newest WAL segment is skipped.
	segs, _ := filepath.Glob(filepath.Join(dir, "events", "wal", "*.wal"))
	if len(segs) == 0 {
		t.Fatalf("no WAL segment under %s", filepath.Join(dir, "events", "wal"))
	}
	sort.Strings(segs)
	f, err := os.OpenFile(segs[len(segs)-1], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte{0x40, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 'g', 'a', 'r'}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	p3 := startMirador(t, dir)
	check(p3.url(), "after a torn WAL tail")
	if !strings.Contains(p3.log(), "level=WARN") {
		t.Errorf("the torn WAL tail was not reported:\n%s", p3.log())
	}
	t.Logf("%d acknowledged batches of %d records survived kill -9", total, perBatch)
}

func TestCLILogsQueryGroupsAndTail(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	p := startMirador(t, t.TempDir())
	env := []string{"MIRADOR_URL=" + p.url()}
	post := func(body string) {
		resp, err := http.Post(p.url()+"/api/v1/logs/ingest?group=shop", "application/x-ndjson", strings.NewReader(body))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("ingest: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	post(`{"level":"error","message":"payment declined","order":{"id":"o-42"}}` + "\n" + `{"level":"info","message":"order placed"}`)

	var out strings.Builder
	if err := runLogs(context.Background(), []string{"query", `filter level = "error" | fields @message, order.id`, "--group", "shop", "--since", "1h"}, env, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "payment declined") || !strings.Contains(out.String(), "o-42") || strings.Contains(out.String(), "order placed") {
		t.Errorf("logs query output:\n%s", out.String())
	}
	out.Reset()
	if err := runLogs(context.Background(), []string{"query", "stats count() as n", "--output", "json"}, env, &out); err != nil || !strings.Contains(out.String(), `"n": 2`) {
		t.Errorf("logs query --output json: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := runLogs(context.Background(), []string{"groups"}, env, &out); err != nil || !strings.Contains(out.String(), "shop") || !strings.Contains(out.String(), "never expire") {
		t.Errorf("logs groups: %v\n%s", err, out.String())
	}
	err := runLogs(context.Background(), []string{"query", "stats count( by level"}, env, &out)
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad query: %v", err)
	}

	// tail prints what arrives until its context ends.
	ctx, cancel := context.WithCancel(context.Background())
	var tailed syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runLogs(ctx, []string{"tail", "--group", "shop", "--filter", "declined"}, env, &tailed)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(tailed.String(), "card declined") && time.Now().Before(deadline) {
		post(`{"message":"card declined again"}`)
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("tail: %v", err)
	}
	if !strings.Contains(tailed.String(), "shop/default card declined again") {
		t.Errorf("tail output:\n%s", tailed.String())
	}
}

// syncBuffer is a strings.Builder safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
