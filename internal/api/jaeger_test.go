package api

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miradorhq/mirador/internal/traces"
)

func TestJaegerSearchParameters(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	for _, c := range []struct {
		query, want, err string
	}{
		{query: "service=api&lookback=2d&minDuration=1.5s&limit=7&tags=%7B%22http.status_code%22%3A%22500%22%2C%22error%22%3A%22true%22%7D",
			want: "api  [{http.status_code = 500}] 1.5s 0s true 48h0m0s 7"},
		{query: "service=api&operation=GET+%2F&tag=k:v&tag=a:b&start=1699999000000000&end=1700000000000000",
			want: "api GET / [{a = b} {k = v}] 0s 0s false 16m40s 0"},
		{query: "service=api", want: "api  [] 0s 0s false 1h0m0s 0"},
		{query: "lookback=1h", err: "service is required"},
		{query: "service=a&lookback=soon", err: "lookback"},
		{query: "service=a&start=x", err: "start"},
		{query: "service=a&tags=[1]", err: "JSON object"},
		{query: "service=a&tag=novalue", err: "key:value"},
		{query: "service=a&limit=99999", err: "limit"},
		{query: "service=a&maxDuration=1y", err: "maxDuration"},
		{query: "service=a&start=1700000000000000&end=1600000000000000", err: "not after"},
	} {
		q, _ := url.ParseQuery(c.query)
		sq, err := jaegerSearch(q, now)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want one mentioning %q", c.query, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		var conds []string
		for _, cd := range sq.Conditions {
			conds = append(conds, "{"+cd.Key+" "+cd.Op+" "+cd.Value+"}")
		}
		got := strings.Join([]string{sq.Service, sq.Operation, "[" + strings.Join(conds, " ") + "]", sq.MinDuration.String(), sq.MaxDuration.String(),
			map[bool]string{true: "true", false: "false"}[sq.ErrorsOnly], sq.End.Sub(sq.Start).String(), strconv.Itoa(sq.Limit)}, " ")
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.query, got, c.want)
		}
	}
}

func TestJaegerTraceIDs(t *testing.T) {
	if got := jaegerTraceID([16]byte{15: 0xab}); got != "00000000000000ab" {
		t.Errorf("64-bit id printed %s", got)
	}
	if got := jaegerTraceID([16]byte{0: 1, 15: 2}); got != "01000000000000000000000000000002" {
		t.Errorf("128-bit id printed %s", got)
	}
	id, err := traces.ParseTraceID("00000000000000ab")
	if err != nil || id != ([16]byte{15: 0xab}) {
		t.Errorf("round trip: %x %v", id, err)
	}
}

func FuzzJaegerSearch(f *testing.F) {
	f.Add("service=api&lookback=2d&minDuration=1.5s&limit=7&tags=%7B%22a%22%3A%22b%22%7D&tag=k:v")
	f.Add("service=a&start=1&end=2")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		sq, err := jaegerSearch(q, time.Unix(1_700_000_000, 0))
		if err == nil && (sq.Service == "" || !sq.End.After(sq.Start) || sq.Limit < 0 || sq.Limit > traces.MaxSearchLimit) {
			t.Fatalf("%q accepted as %+v", raw, sq)
		}
	})
}
