package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miradorhq/mirador/internal/notify/envelope"
)

// TestKill9BetweenCommitAndDeliveryStillDelivers kills the server while its
// first delivery attempt is in flight (the state change and the outbox row
// committed, the attempt not recorded): after a restart the message is
// delivered with the same message id, so the receiver can drop the
// duplicate. The alarm is driven through the CLI.
func TestKill9BetweenCommitAndDeliveryStillDelivers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	var mu sync.Mutex
	var ids []string
	inFlight := make(chan struct{}, 10)
	release := make(chan struct{})
	first := true
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var env envelope.Envelope
		_ = json.Unmarshal(body, &env)
		mu.Lock()
		ids = append(ids, env.MessageID)
		hang := first
		first = false
		mu.Unlock()
		inFlight <- struct{}{}
		if hang {
			<-release // the server dies while waiting for this answer
		}
	}))
	defer rcv.Close()
	defer close(release)

	dir := t.TempDir()
	p := startMirador(t, dir)
	env := []string{"MIRADOR_URL=" + p.url()}
	put := func(path, body string) {
		req, _ := http.NewRequest("PUT", p.url()+path, strings.NewReader(body))
		if path == "" {
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode/100 != 2 {
			t.Fatalf("PUT %s: %v %v", path, err, resp)
		}
		resp.Body.Close()
	}
	put("/api/v1/topics/oncall", "")
	resp, err := http.Post(p.url()+"/api/v1/topics/oncall/subscriptions", "application/json", strings.NewReader(`{"protocol":"webhook","endpoint":"`+rcv.URL+`"}`))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("subscribe: %v %v", err, resp)
	}
	resp.Body.Close()

	alarm := filepath.Join(dir, "alarm.json")
	if err := os.WriteFile(alarm, []byte(`{"query":"vector(0)","periodSeconds":60,"evaluationPeriods":1,"comparisonOperator":"GreaterThanThreshold","threshold":1,"alarmActions":["oncall"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := runAlarms(context.Background(), []string{"put", "disk-full", "--file", alarm}, env, &out); err != nil {
		t.Fatal(err)
	}
	if err := runAlarms(context.Background(), []string{"set-state", "disk-full", "ALARM", "--reason", "testing the pager"}, env, &out); err != nil {
		t.Fatal(err)
	}
	select {
	case <-inFlight:
	case <-time.After(20 * time.Second):
		t.Fatalf("no delivery attempt:\n%s", p.log())
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited

	p2 := startMirador(t, dir)
	select {
	case <-inFlight:
	case <-time.After(20 * time.Second):
		t.Fatalf("the message was not delivered after the restart:\n%s", p2.log())
	}
	mu.Lock()
	if len(ids) != 2 || ids[0] != ids[1] || ids[0] == "" {
		t.Errorf("message ids %v: want the same id on the attempt cut by kill -9 and the one after restart", ids)
	}
	mu.Unlock()

	// The CLI sees the state the alarm was forced into, and its history.
	env = []string{"MIRADOR_URL=" + p2.url()}
	out.Reset()
	if err := runAlarms(context.Background(), []string{"list"}, env, &out); err != nil || !strings.Contains(out.String(), "disk-full") || !strings.Contains(out.String(), "ALARM") {
		t.Errorf("alarms list: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := runAlarms(context.Background(), []string{"history", "disk-full"}, env, &out); err != nil || !strings.Contains(out.String(), "Alarm updated from OK to ALARM") {
		t.Errorf("alarms history: %v\n%s", err, out.String())
	}
	if err := runAlarms(context.Background(), []string{"set-state", "disk-full", "BROKEN"}, env, &out); err == nil || !strings.Contains(err.Error(), "want OK, ALARM or INSUFFICIENT_DATA") {
		t.Errorf("bad state: %v", err)
	}
}
