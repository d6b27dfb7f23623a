package composite

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func states(m map[string]string) func(string) string {
	return func(a string) string {
		if s, ok := m[a]; ok {
			return s
		}
		return "INSUFFICIENT_DATA"
	}
}

func TestEvaluate(t *testing.T) {
	st := states(map[string]string{"cpu": "ALARM", "mem": "OK", "disk": "INSUFFICIENT_DATA", "my alarm": "ALARM", "api-5xx": "OK"})
	for rule, want := range map[string]bool{
		`ALARM(cpu)`:                                true,
		`ALARM("cpu")`:                              true,
		`OK(cpu)`:                                   false,
		`ALARM(cpu) AND OK(mem)`:                    true,
		`ALARM(cpu) AND ALARM(mem)`:                 false,
		`ALARM(mem) OR INSUFFICIENT_DATA(disk)`:     true,
		`NOT ALARM(mem)`:                            true,
		`NOT ALARM(cpu) OR ALARM(mem)`:              false, // NOT binds tighter than OR
		`NOT (ALARM(cpu) OR ALARM(mem))`:            false,
		`ALARM(mem) AND ALARM(cpu) OR ALARM(cpu)`:   true, // AND binds tighter than OR
		`ALARM(mem) AND (ALARM(cpu) OR ALARM(cpu))`: false,
		`TRUE`:                       true,
		`FALSE OR ALARM("my alarm")`: true,
		`alarm(cpu) and not ok(cpu)`: true,
		`ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu)`: true,
		`(((OK(api-5xx))))`: true,
	} {
		r, err := Parse(rule)
		if err != nil {
			t.Fatalf("%s: %v", rule, err)
		}
		if got := r.Eval(st); got != want {
			t.Errorf("%s = %v, want %v", rule, got, want)
		}
	}
	r, _ := Parse(`ALARM(a) OR (OK(b) AND NOT ALARM("a")) OR ALARM(arn:aws:cloudwatch:eu-west-1:1:alarm:c)`)
	if fmt.Sprint(r.Children()) != "[a b c]" {
		t.Errorf("children %v", r.Children())
	}
}

func TestSyntaxErrors(t *testing.T) {
	for rule, want := range map[string]string{
		``:                      "at character 1: expected ALARM(name)",
		`ALARM(cpu`:             "expected ) after the alarm name",
		`ALARM cpu`:             "expected ( and an alarm name",
		`ALARM()`:               "alarm name is empty",
		`ALARM("cpu) OR OK(x)`:  "unterminated quoted alarm name",
		`ALARM(cpu) XOR OK(m)`:  "at character 12: expected AND, OR or the end of the rule, found \"XOR\"",
		`ALARM(cpu) AND`:        "found the end of the rule",
		`(ALARM(cpu)`:           "expected ) to close the parenthesis",
		`ALARMS(cpu)`:           "found \"ALARMS\"",
		`ALARM(cpu) AND OK(m))`: "found \")\"",
	} {
		_, err := Parse(rule)
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error containing %q", rule, err, want)
		}
	}
	many := make([]string, MaxChildren+1)
	for i := range many {
		many[i] = fmt.Sprintf("ALARM(a%d)", i)
	}
	if _, err := Parse(strings.Join(many, " OR ")); err == nil || !strings.Contains(err.Error(), "more than 100 alarms") {
		t.Errorf("101 children: %v", err)
	}
	if _, err := Parse(strings.Repeat("NOT ", MaxElements) + "TRUE"); err == nil || !strings.Contains(err.Error(), "elements") {
		t.Errorf("too many elements: %v", err)
	}
	if _, err := Parse(strings.Repeat(" ", MaxRuleLength) + "TRUE"); err == nil || !strings.Contains(err.Error(), "characters long") {
		t.Errorf("too long: %v", err)
	}
}

func TestCycle(t *testing.T) {
	graph := map[string][]string{"top": {"mid", "cpu"}, "mid": {"low"}, "low": {"mem"}}
	of := func(a string) []string { return graph[a] }
	if c := Cycle("low", []string{"mem", "top"}, of); fmt.Sprint(c) != "[low top mid low]" {
		t.Errorf("cycle through top: %v", c)
	}
	if c := Cycle("new", []string{"top", "low"}, of); c != nil {
		t.Errorf("no cycle expected: %v", c)
	}
	if c := Cycle("self", []string{"self"}, of); fmt.Sprint(c) != "[self self]" {
		t.Errorf("self reference: %v", c)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`ALARM(cpu) AND NOT (OK("m x") OR INSUFFICIENT_DATA(arn:aws:cloudwatch:r:1:alarm:d))`, `TRUE`, `NOT NOT FALSE`, `ALARM(`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		r, err := Parse(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("%q: %v is not a SyntaxError", src, err)
			}
			return
		}
		if len(r.Children()) > MaxChildren {
			t.Fatalf("%q: %d children", src, len(r.Children()))
		}
		r.Eval(func(string) string { return "ALARM" })
	})
}
