package filterpattern

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/miradorhq/mirador/internal/eventstore"
)

const accessLine = `127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`

const cloudTrail = `{"eventType":"UpdateTrail","sourceIPAddress":"123.123.123.123","arrayKey":["value","another"],
 "objectList":[{"name":"a","id":1},{"name":"b","id":2}],"user":{"id":1,"email":"John.Stiles@example.com"},
 "users":[{"id":2,"email":"John.Doe@example.com"}],"coordinates":[[0,1],[2,3]],"actions":["Put","Get","Delete"],
 "bandwidth":80,"latency":12.5,"refreshRate":0.002,"SomeObject":null,"ThisFlag":true,"ThatFlag":false}`

func TestSpecExamples(t *testing.T) {
	for _, tc := range []struct {
		pattern, message string
		want             bool
	}{
		{"", "anything", true},
		{" ", "anything", true},
		{"ERROR", "[ERROR 400] BAD REQUEST", true},
		{"ERROR", "Exiting with ERRORCODE: -1", true},
		{"ERROR", "all good", false},
		{"ERROR", "error lower case", false},
		{"ERROR ARGUMENTS", "[ERROR] Unrecognized ARGUMENTS", true},
		{"ERROR ARGUMENTS", "[ERROR 400] BAD REQUEST", false},
		{`"INTERNAL SERVER ERROR"`, "[ERROR 500] INTERNAL SERVER ERROR", true},
		{`"INTERNAL SERVER ERROR"`, "[ERROR 500] INTERNAL ERROR SERVER", false},
		{"?ERROR ?WARN", "[WARN] disk 90% full", true},
		{"?ERROR ?WARN", "[INFO] fine", false},
		{"ERROR -ARGUMENTS", "[ERROR] Unrecognized ARGUMENTS", false},
		{"ERROR -ARGUMENTS", "[ERROR 400] BAD REQUEST", true},
		{"ERROR ?400 ?500 -RETRY", "[ERROR 500] boom", true},
		{"ERROR ?400 ?500 -RETRY", "[ERROR 503] boom", false},
		{"ERROR ?400 ?500 -RETRY", "[ERROR 500] boom RETRY", false},
		{"%AUTHORIZED%", "[ERROR 401] UNAUTHORIZED REQUEST", true},
		{"%AUTHORIZED%", "[SUCCESS 200] AUTHORIZED REQUEST", true},
		{"%^\\[ERROR 4[0-9]+\\]%", "[ERROR 401] UNAUTHORIZED REQUEST", true},
		{"%^\\[ERROR 4[0-9]+\\]%", "[ERROR 500] x", false},
		{"/api/v1", "GET /api/v1/users", true},

		{`{ $.eventType = "UpdateTrail" }`, cloudTrail, true},
		{`{ $.eventType = UpdateTrail }`, cloudTrail, true},
		{`{ $.eventType = "Update*" }`, cloudTrail, true},
		{`{ $.eventType = "*" }`, cloudTrail, true},
		{`{ $.missing = "*" }`, cloudTrail, false},
		{`{ $.sourceIPAddress != 123.123.* }`, cloudTrail, false},
		{`{ $.sourceIPAddress != 10.0.* }`, cloudTrail, true},
		{`{ $.arrayKey[0] = "value" }`, cloudTrail, true},
		{`{ $.objectList[1].id = 2 }`, cloudTrail, true},
		{`{ $.objectList[1].id = 1 }`, cloudTrail, false},
		{`{ $.coordinates[0][1] = 1 }`, cloudTrail, true},
		{`{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }`, cloudTrail, true},
		{`{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }`, cloudTrail, true},
		{`{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }`, cloudTrail, false},
		{`{ $.bandwidth > 75 }`, cloudTrail, true},
		{`{ $.bandwidth >= 80 && $.bandwidth <= 80 }`, cloudTrail, true},
		{`{ $.latency < 50 }`, cloudTrail, true},
		{`{ $.latency = * }`, cloudTrail, true},
		{`{ $.refreshRate > 1e-3 }`, cloudTrail, true},
		{`{ $.refreshRate < -1.5E+2 }`, cloudTrail, false},
		{`{ $.eventType > 5 }`, cloudTrail, false},
		{`{ $.SomeObject IS NULL }`, cloudTrail, true},
		{`{ $.eventType IS NULL }`, cloudTrail, false},
		{`{ $.SomeOtherObject NOT EXISTS }`, cloudTrail, true},
		{`{ $.eventType NOT EXISTS }`, cloudTrail, false},
		{`{ $.ThisFlag IS TRUE }`, cloudTrail, true},
		{`{ $.ThatFlag IS FALSE }`, cloudTrail, true},
		{`{ $.ThatFlag IS TRUE }`, cloudTrail, false},
		{`{ $.eventType = %^Update[A-Z]%}`, cloudTrail, true},
		{`{ $.eventType = "UpdateTrail" }`, "not json at all", false},

		{`[ip, user, username, timestamp, request, status_code = 4*, bytes]`, accessLine, true},
		{`[ip, user, username, timestamp, request, status_code = 2*, bytes]`, accessLine, false},
		{`[ip, user, username, timestamp, request, status_code, bytes > 1000]`, accessLine, true},
		{`[ip, user, username, timestamp, request, status_code, bytes < 1000]`, accessLine, false},
		{`[..., status_code = 404, bytes]`, accessLine, true},
		{`[ip = 127.0.0.1, ...]`, accessLine, true},
		{`[ip, user]`, accessLine, false},
		{`[w1=ERROR || w1=WARNING, w2]`, "WARNING disk", true},
		{`[w1=ERROR || w1=WARNING, w2]`, "INFO disk", false},
		{`[w1=ERROR && w1!=ERRORS, w2]`, "ERROR disk", true},
		{`[a, b, c = %^fr[a-z]+$%, ...]`, accessLine, true},
	} {
		p, err := Parse(tc.pattern)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.pattern, err)
			continue
		}
		if got := p.Match(Event{Message: tc.message}); got != tc.want {
			t.Errorf("%q on %.40q = %v, want %v", tc.pattern, tc.message, got, tc.want)
		}
	}
}

func TestJSONPatternOverFields(t *testing.T) {
	attrs := map[string]eventstore.Value{"http.status": eventstore.IntValue(503), "user.name": eventstore.StringValue("ada")}
	fields := func(k string) (eventstore.Value, bool) { v, ok := attrs[k]; return v, ok }
	for pattern, want := range map[string]bool{
		`{ $.http.status >= 500 }`:                       true,
		`{ $.user.name = "ada" && $.http.status = 503 }`: true,
		`{ $.user.name = "bob" }`:                        false,
		`{ $.nope NOT EXISTS }`:                          true,
	} {
		p, err := Parse(pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Match(Event{Message: "plain text", Fields: fields}); got != want {
			t.Errorf("%s = %v", pattern, got)
		}
	}
}

func TestExtractedValues(t *testing.T) {
	p, _ := Parse(`[ip, user, username, timestamp, request, status_code = 4*, bytes]`)
	ok, x := p.MatchExtract(Event{Message: accessLine})
	if !ok {
		t.Fatal("no match")
	}
	want := map[string]string{"$ip": "127.0.0.1", "$user": "-", "$username": "frank", "$timestamp": "10/Oct/2000:13:25:15 -0700",
		"$request": "GET /index.html HTTP/1.0", "$status_code": "404", "$bytes": "1534"}
	if fmt.Sprint(x.Fields()) != fmt.Sprint(want) {
		t.Errorf("extracted %v", x.Fields())
	}
	if v, ok := x.Get("$bytes"); !ok || v.Str != "1534" {
		t.Errorf("$bytes = %v %v", v, ok)
	}
	p, _ = Parse(`{ $.latency > 1 }`)
	ok, x = p.MatchExtract(Event{Message: cloudTrail})
	if v, found := x.Get("$.latency"); !ok || !found || v.Float != 12.5 {
		t.Errorf("$.latency = %v %v %v", v, found, ok)
	}
	if v, found := x.Get("$.objectList[1].id"); !found || v.Int != 2 {
		t.Errorf("$.objectList[1].id = %v %v", v, found)
	}
}

func TestSyntaxErrorsSayWhereAndWhat(t *testing.T) {
	for pattern, want := range map[string]string{
		`{ $.x = `:             "column 9: expected a value",
		`{ $.x = 1 && }`:       "expected a selector",
		`{ $.x = 1 `:           `expected "}"`,
		`{ x = 1 }`:            "expected a selector starting with $.",
		`{ $.x ~ 1 }`:          "expected =, !=",
		`{ $.x > abc }`:        "expected a number",
		`{ $.x[a] = 1 }`:       "array index",
		`"unterminated`:        "unterminated quoted string",
		`%ab(c)%`:              "parentheses",
		`%é%`:                  "multi-byte",
		`%a!%`:                 `character '!' is not allowed`,
		`%a% %b% %c%`:          "at most 2 regexes",
		`%abc`:                 "unterminated regex",
		`[a, b`:                `expected ",", or "]"`,
		`[a, ..., b, ...]`:     "only one ...",
		`[a = ]`:               "expected a value",
		`ERROR {`:              "quote it",
		`{ ($.a = 1 }`:         `expected ")"`,
		`? ERROR`:              "expected a term",
		`{ $.a = 1 } trailing`: "expected the end of the pattern",
	} {
		_, err := Parse(pattern)
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), strings.TrimSuffix(want, ",")) && !strings.Contains(err.Error(), strings.ReplaceAll(want, `",", or`, `"," or`)) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", pattern, err, want)
		}
	}
}

// TestNeedlesAreRequiredByEveryMatch checks the pruning contract on random
// messages: a matching message contains every needle as a whole token.
func TestNeedlesAreRequiredByEveryMatch(t *testing.T) {
	words := []string{"user=alice", "id=42", "GET", "/api/v1/users", "took", "12ms", "ERROR", "ERRORCODE", "alice", "[x]"}
	patterns := []string{`"user=alice id=42 "`, `ERROR`, `" GET /api/v1/"`, `"took 12ms" ?alice`, `-ERROR`}
	rng := rand.New(rand.NewPCG(7, 7))
	for _, src := range patterns {
		p, err := Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		needles := p.Needles()
		for range 5000 {
			n := 1 + rng.IntN(8)
			parts := make([]string, n)
			for i := range parts {
				parts[i] = words[rng.IntN(len(words))]
			}
			msg := strings.Join(parts, " ")
			if !p.Match(Event{Message: msg}) {
				continue
			}
			var toks []string
			eventstore.Tokenize(msg, func(tok string) { toks = append(toks, tok) })
			for _, nd := range needles {
				if !slices.Contains(toks, nd) {
					t.Fatalf("%s matches %q but needle %q is not one of its tokens", src, msg, nd)
				}
			}
		}
	}
	if p, _ := Parse(`"user=alice id=42 "`); fmt.Sprint(p.Needles()) != "[alice id 42]" {
		t.Errorf("needles %v", p.Needles())
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"ERROR", `"a b" ?c -d %e%`, `{ $.a.b[0] = "x*" && ($.n > 1e3 || $.m IS NULL) }`, `[a, ..., b = 4* || b = 5*, c > 10]`, `{ $.x NOT EXISTS }`} {
		f.Add(s)
	}
	msgs := []string{accessLine, cloudTrail, "", "ERROR x", `{"a":{"b":["x1"]},"n":5000}`}
	f.Fuzz(func(t *testing.T, pattern string) {
		p, err := Parse(pattern)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(pattern) {
				t.Fatalf("Parse(%q): %v", pattern, err)
			}
			return
		}
		for _, m := range msgs {
			p.Match(Event{Message: m})
			p.MatchExtract(Event{Message: m, Fields: func(string) (eventstore.Value, bool) { return eventstore.IntValue(1), true }})
		}
	})
}
