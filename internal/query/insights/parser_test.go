package insights

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/query"
)

func TestPruningHints(t *testing.T) {
	for _, tc := range []struct {
		q       string
		needles []string
		attrs   []string
		cols    eventstore.Column
		schema  query.Schema
		group   string
	}{
		{q: `filter @message like /\bneedle7f3c9a1e\b/ | fields @timestamp, @message`, needles: []string{"needle7f3c9a1e"},
			cols: eventstore.ColTime | eventstore.ColBody},
		{q: `filter @message like "user=alice id=42 "`, needles: []string{"alice", "id", "42"}},
		{q: `filter @message like "needle"`},
		{q: `filter @message like "a b c" or level = "ERROR"`},
		{q: `filter not @message like " x "`},
		{q: `filter @message =~ /(?i)\bx\b/`},
		{q: `filter @message =~ /\bfoo\b|\bbar\b/`},
		{q: `filter service = "checkout" and status = 500`, attrs: []string{"service=checkout"}},
		{q: `filter service = "200"`},
		{q: `fields "x" as service | filter service = "checkout"`},
		{q: `stats count() by bin(1m), level`, cols: eventstore.ColTime | eventstore.ColSeverity},
		{q: `filter @log = "api" and level = "ERROR"`, group: "api"},
		{q: `filter @log = "api" or level = "ERROR"`},
		{q: `filter service = "checkout" and duration > 500ms | stats pct(duration, 99) by name`, schema: query.Spans, group: "checkout",
			cols: eventstore.ColTime | eventstore.ColGroup | eventstore.ColSpan},
		{q: `filter app.tier = "gold"`, schema: query.Spans, attrs: []string{"app.tier=gold"}},
	} {
		plan, err := Compile(tc.q, tc.schema)
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		var attrs []string
		for _, a := range plan.AttrEquals {
			attrs = append(attrs, a.Key+"="+a.Value.String())
		}
		if !slices.Equal(plan.Needles, tc.needles) || !slices.Equal(attrs, tc.attrs) {
			t.Errorf("%s: needles %q attrs %q, want %q %q", tc.q, plan.Needles, attrs, tc.needles, tc.attrs)
		}
		if plan.Group != tc.group {
			t.Errorf("%s: group %q, want %q", tc.q, plan.Group, tc.group)
		}
		if tc.cols != 0 && plan.Columns != tc.cols {
			t.Errorf("%s: columns %b, want %b", tc.q, plan.Columns, tc.cols)
		}
	}
}

func TestSyntaxErrorsCarryPositions(t *testing.T) {
	_, err := Compile("fields @message\n| filter x >", query.Logs)
	var se *query.SyntaxError
	if !errors.As(err, &se) || se.Line != 2 || se.Column != 13 || !strings.Contains(se.Msg, "expected a field, value or function") {
		t.Fatalf("%v", err)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.golden")
	for _, file := range files {
		raw, _ := os.ReadFile(file)
		for _, c := range strings.Split(string(raw), "=== ")[1:] {
			_, body, _ := strings.Cut(c, "\n")
			src, _, _ := strings.Cut(body, "---\n")
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		plan, err := Compile(src, query.Logs)
		if err != nil {
			var se *query.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("%q: error %v is not a SyntaxError", src, err)
			}
			return
		}
		_ = fmt.Sprint(plan.Needles)
	})
}
