package logql

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, q string) Expr {
	t.Helper()
	e, err := Parse(q)
	if err != nil {
		t.Fatalf("Parse(%q): %v", q, err)
	}
	return e
}

func TestEveryConstructParses(t *testing.T) {
	for _, q := range []string{
		`{service_name="api"}`,
		`{service_name="api", env!="dev", pod=~"web-.*", level!~"debug|trace"}`,
		`{job="nginx"} |= "GET" != "healthz" |~ "5\\d\\d" !~ "bot|crawler"`,
		`{job="nginx"} |= "error" or "fatal"`,
		"{job=\"nginx\"} |> `<ip> - - <_> \"<method> <path> <_>\" <status> <_>`",
		`{app="a"} | json`,
		`{app="a"} | json status="response.status", user="user.id"`,
		`{app="a"} | logfmt`,
		`{app="a"} | logfmt --strict --keep-empty`,
		`{app="a"} | regexp "(?P<method>\\w+) (?P<path>\\S+)"`,
		"{app=\"a\"} | pattern `<method> <path> <status>`",
		`{app="a"} | unpack`,
		`{app="a"} | json | level="error" and status >= 500 or duration > 1.5s`,
		`{app="a"} | logfmt | size > 10KB, latency <= 250ms`,
		`{app="a"} | logfmt | (status >= 500 or status == 429) and method != "GET"`,
		`{app="a"} | logfmt | status >= 500 method="POST"`,
		`{app="a"} | logfmt | temp < -5.5`,
		`{app="a"} | json | line_format "{{.method}} {{.path}} {{.status}}"`,
		`{app="a"} | json | label_format code=status, who="{{.user}}@{{.host}}"`,
		`{app="a"} | json | drop level, method="GET"`,
		`{app="a"} | json | keep level, status`,
		`{app="a"} | decolorize`,
		`count_over_time({app="a"}[5m])`,
		`rate({app="a"} |= "error" [1m])`,
		`bytes_over_time({app="a"}[1h])`,
		`bytes_rate({app="a"}[30s])`,
		`absent_over_time({app="a"}[10m])`,
		`sum_over_time({app="a"} | logfmt | unwrap bytes_sent [5m])`,
		`avg_over_time({app="a"} | logfmt | unwrap duration(latency) [5m]) by (path)`,
		`max_over_time({app="a"} | json | unwrap bytes(size) | __error__="" [5m])`,
		`quantile_over_time(0.99, {app="a"} | logfmt | unwrap duration(latency) [5m]) by (route)`,
		`min_over_time({app="a"} | logfmt | unwrap latency_ms [5m] offset 1h)`,
		`sum(count_over_time({app="a"}[5m]))`,
		`sum by (level) (count_over_time({service_name="x"} |= "needle" [1m]))`,
		`sum(count_over_time({service_name="x"}[1m])) without (pod)`,
		`avg(rate({app="a"}[5m]))`, `min(rate({app="a"}[5m]))`, `max(rate({app="a"}[5m]))`, `count(rate({app="a"}[5m]))`,
		`topk(5, sum by (path) (rate({app="a"}[5m])))`,
		`bottomk(3, sum by (path) (rate({app="a"}[5m])))`,
		`sum(rate({app="a"} |= "error" [5m])) / sum(rate({app="a"}[5m])) * 100`,
		`sum(rate({app="a"}[5m])) > 10`,
		`sum(rate({app="a"}[5m])) > bool 10`,
		`2 ^ 3 ^ 2`,
		`-sum(rate({app="a"}[5m]))`,
		`sum by (a) (rate({app="a"}[5m])) / on (a) sum by (a) (rate({app="b"}[5m]))`,
		"# a comment\nsum(\n  rate({app=\"a\"}[5m]) # trailing\n)",
	} {
		mustParse(t, q)
	}
}

func TestTreeShapes(t *testing.T) {
	e := mustParse(t, `sum by (level) (count_over_time({service_name="x"} |= "needle" [1m]))`).(*VectorAgg)
	r := e.Expr.(*RangeAgg)
	if e.Op != "sum" || e.By == nil || e.By.Labels[0] != "level" || r.Op != "count_over_time" || r.Range != time.Minute ||
		r.Query.Matchers[0] != (Matcher{"service_name", "=", "x"}) || r.Query.Pipeline[0].(*LineFilter).Values[0] != "needle" {
		t.Errorf("%+v %+v", e, r)
	}
	q := mustParse(t, `{a="b"} | json | level="error" and status >= 500 or duration > 1.5s`).(*LogQuery)
	f := q.Pipeline[1].(*LabelFilter)
	if !f.Or || !f.L.And || f.L.L.Name != "level" || f.L.R.Value.Num != 500 || f.R.Value.Kind != "duration" || f.R.Value.Num != 1.5 {
		t.Errorf("label filter tree %+v", f)
	}
	q = mustParse(t, `{a="b"} | logfmt | size > 10KB`).(*LogQuery)
	if v := q.Pipeline[1].(*LabelFilter).Value; v.Kind != "bytes" || v.Num != 10000 {
		t.Errorf("bytes %+v", v)
	}
	u := mustParse(t, `quantile_over_time(0.99, {a="b"} | logfmt | unwrap duration(latency) [5m] offset 1h) by (route)`).(*RangeAgg)
	if u.Param != 0.99 || u.Unwrap.Conv != "duration" || u.Unwrap.Label != "latency" || u.Offset != time.Hour || u.By.Labels[0] != "route" {
		t.Errorf("unwrap %+v %+v", u, u.Unwrap)
	}
	b := mustParse(t, `1 + 2 * 3`).(*Binary)
	if b.Op != "+" || b.R.(*Binary).Op != "*" {
		t.Errorf("precedence: %+v", b)
	}
	if p := mustParse(t, `2 ^ 3 ^ 2`).(*Binary); p.R.(*Binary).Op != "^" {
		t.Errorf("^ is right-associative: %+v", p)
	}
	if j := mustParse(t, `{a="b"} | json status="response.status"`).(*LogQuery).Pipeline[0].(*Parser); j.Fields["status"] != "response.status" {
		t.Errorf("json params %+v", j)
	}
	if l := mustParse(t, `{a="b"} | logfmt --strict --keep-empty`).(*LogQuery).Pipeline[0].(*Parser); strings.Join(l.Flags, " ") != "--strict --keep-empty" {
		t.Errorf("logfmt flags %+v", l)
	}
	if jf := mustParse(t, `{a="b"} | json = "x"`).(*LogQuery).Pipeline[0].(*LabelFilter); jf.Name != "json" {
		t.Errorf("a label named json: %+v", jf)
	}
}

func TestErrorsSayWhereAndWhat(t *testing.T) {
	for _, c := range []struct {
		q    string
		pos  Pos
		want string
	}{
		{`{}`, Pos{1, 2}, "at least one matcher"},
		{`{app}`, Pos{1, 5}, "expected =, !=, =~ or !~"},
		{`{app="a"`, Pos{1, 9}, `expected "," or "}"`},
		{`{app="a"} |= error`, Pos{1, 14}, "quoted string"},
		{`{app="a"} | status >= "x"`, Pos{1, 23}, "compares numbers"},
		{`{app="a"} | unknownstage`, Pos{1, 25}, "expected a comparison"},
		{`count_over_time({app="a"})`, Pos{1, 26}, "range such as [5m]"},
		{`count_over_time({app="a"}[5])`, Pos{1, 27}, "duration"},
		{`sum_over_time({app="a"}[5m])`, Pos{1, 1}, "needs | unwrap"},
		{`rate({app="a"} | unwrap x [5m])`, Pos{1, 1}, "takes no | unwrap"},
		{`sum({app="a"})`, Pos{1, 1}, "aggregates metrics, not log lines"},
		{`{app="a"} + 1`, Pos{1, 11}, "cannot be an operand"},
		{`topk(x, rate({a="b"}[1m]))`, Pos{1, 6}, "needs a count"},
		{`sum(rate({a="b"}[1m])`, Pos{1, 22}, `expected ")"`},
		{"{app=\"a\"}\n | line_format", Pos{2, 15}, "line_format template"},
		{`{app="a" |= "x"`, Pos{1, 10}, `expected "," or "}"`},
		{`{app="unterminated}`, Pos{1, 6}, "unterminated string"},
		{`{app="a"} | json | unwrap x`, Pos{1, 20}, "only allowed inside a range aggregation"},
		{`quantile_over_time({a="b"} | unwrap x [1m])`, Pos{1, 20}, "needs a quantile"},
		{`sum(rate({a="b"}[1m])) )`, Pos{1, 24}, "after the end of the query"},
		{`{a="b"} @`, Pos{1, 9}, "unexpected character"},
	} {
		_, err := Parse(c.q)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Pos != c.pos || !strings.Contains(se.Msg, c.want) {
			t.Errorf("Parse(%q): %v, want at %d:%d an error mentioning %q", c.q, err, c.pos.Line, c.pos.Column, c.want)
		}
	}
}

func TestDurationsAndBytes(t *testing.T) {
	for s, want := range map[string]time.Duration{"5m": 5 * time.Minute, "1h30m": 90 * time.Minute, "1.5s": 1500 * time.Millisecond, "250ms": 250 * time.Millisecond, "2d": 48 * time.Hour} {
		if d, err := ParseDuration(s); err != nil || d != want {
			t.Errorf("ParseDuration(%q) = %v, %v", s, d, err)
		}
	}
	for s, want := range map[string]float64{"10KB": 1e4, "1KiB": 1024, "1.5MiB": 1.5 * (1 << 20), "512": 512, "3b": 3} {
		if n, err := ParseBytes(s); err != nil || n != want {
			t.Errorf("ParseBytes(%q) = %v, %v", s, n, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, q := range []string{
		`sum by (level) (count_over_time({service_name="x"} |= "needle" [1m]))`,
		`{a="b"} | json | level="error" and status >= 500 or duration > 1.5s | line_format "{{.x}}"`,
		`quantile_over_time(0.99, {a="b"} | logfmt | unwrap duration(latency) [5m] offset 1h) by (route)`,
		"{a=`b`} |> `<_> <x>` | label_format a=b, c=\"{{.d}}\" | drop x | keep y=\"z\"",
		`topk(5, sum(rate({a="b"}[1m])) / 2 ^ 3 > bool 1)`,
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		e, err := Parse(q)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Pos.Line < 1 || se.Pos.Column < 1 {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		if e == nil {
			t.Fatal("nil expression without an error")
		}
	})
}
