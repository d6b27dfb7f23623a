package logs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
	"github.com/miradorhq/mirador/internal/query"
	"github.com/miradorhq/mirador/internal/query/logql"
)

// ErrUnsupportedLogQL marks a LogQL construct Mirador does not run yet.
var ErrUnsupportedLogQL = errors.New("unsupported LogQL")

// LokiStream is one stream of a log query's answer: its labels (the
// stream's, plus what the pipeline extracted) and its lines, in the
// query's direction.
type LokiStream struct {
	Labels map[string]string
	Lines  []LokiLine
}

// LokiLine is one line of a stream.
type LokiLine struct {
	Time int64 // Unix ns
	Line string
}

// LokiLogRequest is a LogQL log query over a time range.
type LokiLogRequest struct {
	Query      *logql.LogQuery
	Start, End time.Time
	Limit      int  // most lines; default 100
	Forward    bool // oldest first; Loki's default is backward
}

// LokiLogResult is a log query's answer.
type LokiLogResult struct {
	Streams []LokiStream
	Stats   eventstore.ScanStats
	Partial bool
}

// QueryLoki runs a LogQL log query: the selector picks records by their
// stream labels (with service_name standing for the log group), and the
// pipeline filters and reshapes them.
func (s *Service) QueryLoki(ctx context.Context, tenant string, req LokiLogRequest) (*LokiLogResult, error) {
	p, err := compilePipeline(req.Query)
	if err != nil {
		return nil, err
	}
	if req.Limit <= 0 {
		req.Limit = 100
	}
	cols := eventstore.ColTime | eventstore.ColObservedTime | eventstore.ColGroup | eventstore.ColStream | eventstore.ColBody | eventstore.ColSeverity | eventstore.ColAttributes | eventstore.ColResource
	plan := query.NewPredicatePlan(func(r *eventstore.Record) bool {
		_, _, ok := p.run(r)
		return ok
	}, p.needles, cols, req.Limit, req.Forward)
	var groups []string
	if g := p.group; g != "" {
		if _, err := s.opts.Groups.Get(ctx, tenant, g); err != nil {
			return &LokiLogResult{}, nil // no such group: no lines, as Loki answers for an unknown stream
		}
		groups = []string{g}
	}
	res, err := s.run(ctx, tenant, plan, groups, req.Start, req.End)
	if err != nil {
		return nil, err
	}
	out := &LokiLogResult{Stats: res.Stats, Partial: res.Partial}
	index := map[string]int{}
	for i := range res.Records {
		r := &res.Records[i]
		labels, line, ok := p.run(r)
		if !ok {
			continue
		}
		key := labelKey(labels)
		j, seen := index[key]
		if !seen {
			j = len(out.Streams)
			index[key] = j
			out.Streams = append(out.Streams, LokiStream{Labels: labels})
		}
		out.Streams[j].Lines = append(out.Streams[j].Lines, LokiLine{Time: r.Time, Line: line})
	}
	return out, nil
}

func labelKey(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "\x00" + m[k] + "\x00")
	}
	return b.String()
}

// pipeline is a compiled log query.
type pipeline struct {
	// prefilters are the line filters before any other stage: they run on
	// the raw line before the labels are built, which most lines never
	// need.
	prefilters []func(map[string]string, *string) bool
	matchers   []labelMatcher
	stages     []func(labels map[string]string, line *string) bool
	needles    []string
	group      string // the selector names one log group
}

type labelMatcher struct {
	name, op, value string
	re              *regexp.Regexp
}

func (m labelMatcher) matches(v string) bool {
	switch m.op {
	case "=":
		return v == m.value
	case "!=":
		return v != m.value
	case "=~":
		return m.re.MatchString(v)
	}
	return !m.re.MatchString(v)
}

func compileLabelMatcher(m logql.Matcher) (labelMatcher, error) {
	c := labelMatcher{name: m.Name, op: m.Op, value: m.Value}
	if m.Op == "=~" || m.Op == "!~" {
		re, err := regexp.Compile("^(?:" + m.Value + ")$")
		if err != nil {
			return c, fmt.Errorf("%w: %s%s%q: %v", ErrInvalidQuery, m.Name, m.Op, m.Value, err)
		}
		c.re = re
	}
	return c, nil
}

// streamLabels are a record's labels as LogQL sees them: its resource
// attributes (dots made underscores, as Loki's OTLP ingest does) and
// service_name, which is the log group when the record has none.
func streamLabels(r *eventstore.Record) map[string]string {
	m := make(map[string]string, len(r.Resource)+1)
	for _, a := range r.Resource {
		m[strings.ReplaceAll(a.Key, ".", "_")] = a.Value.String()
	}
	if _, ok := m["service_name"]; !ok {
		m["service_name"] = r.Group
	}
	for _, a := range r.Attributes { // structured metadata
		k := strings.ReplaceAll(a.Key, ".", "_")
		if _, ok := m[k]; !ok {
			m[k] = a.Value.String()
		}
	}
	return m
}

func (p *pipeline) run(r *eventstore.Record) (map[string]string, string, bool) {
	line := r.Body
	for _, f := range p.prefilters {
		if !f(nil, &line) {
			return nil, "", false
		}
	}
	labels := streamLabels(r)
	for _, m := range p.matchers {
		if !m.matches(labels[m.name]) {
			return nil, "", false
		}
	}
	for _, st := range p.stages {
		if !st(labels, &line) {
			return nil, "", false
		}
	}
	return labels, line, true
}

func compilePipeline(q *logql.LogQuery) (*pipeline, error) {
	p := &pipeline{}
	for _, m := range q.Matchers {
		c, err := compileLabelMatcher(m)
		if err != nil {
			return nil, err
		}
		p.matchers = append(p.matchers, c)
		if m.Op == "=" && m.Name == "service_name" {
			p.group = m.Value
		}
	}
	leading := true
	for _, st := range q.Pipeline {
		f, err := p.compileStage(st)
		if err != nil {
			return nil, err
		}
		if _, isLine := st.(*logql.LineFilter); isLine && leading {
			p.prefilters = append(p.prefilters, f)
			continue
		}
		leading = false
		p.stages = append(p.stages, f)
	}
	return p, nil
}

func (p *pipeline) compileStage(st logql.Stage) (func(map[string]string, *string) bool, error) {
	switch st := st.(type) {
	case *logql.LineFilter:
		return p.lineFilter(st)
	case *logql.Parser:
		return compileParser(st)
	case *logql.LabelFilter:
		return compileLabelFilter(st)
	case *logql.LineFormat:
		tmpl, err := template.New("line_format").Option("missingkey=zero").Parse(st.Template)
		if err != nil {
			return nil, fmt.Errorf("%w: line_format: %v", ErrInvalidQuery, err)
		}
		return func(labels map[string]string, line *string) bool {
			var b strings.Builder
			if err := tmpl.Execute(&b, labels); err != nil {
				labels["__error__"] = "TemplateFormatErr"
				return true
			}
			*line = b.String()
			return true
		}, nil
	case *logql.LabelFormat:
		tmpls := map[string]*template.Template{}
		for name, src := range st.Templates {
			t, err := template.New(name).Option("missingkey=zero").Parse(src)
			if err != nil {
				return nil, fmt.Errorf("%w: label_format %s: %v", ErrInvalidQuery, name, err)
			}
			tmpls[name] = t
		}
		return func(labels map[string]string, _ *string) bool {
			for dst, src := range st.Renames {
				if v, ok := labels[src]; ok {
					delete(labels, src)
					labels[dst] = v
				}
			}
			for dst, t := range tmpls {
				var b strings.Builder
				if t.Execute(&b, labels) == nil {
					labels[dst] = b.String()
				}
			}
			return true
		}, nil
	case *logql.Drop, *logql.Keep:
		var ms []logql.Matcher
		keep := false
		if d, ok := st.(*logql.Drop); ok {
			ms = d.Labels
		} else {
			ms, keep = st.(*logql.Keep).Labels, true
		}
		cs := make([]labelMatcher, len(ms))
		for i, m := range ms {
			c, err := compileLabelMatcher(m)
			if err != nil {
				return nil, err
			}
			cs[i] = c
		}
		return func(labels map[string]string, _ *string) bool {
			for k, v := range labels {
				hit := false
				for _, c := range cs {
					if c.name == k && (c.op == "" || c.matches(v)) {
						hit = true
						break
					}
				}
				if hit != keep {
					delete(labels, k)
				}
			}
			return true
		}, nil
	case *logql.Decolorize:
		return func(_ map[string]string, line *string) bool {
			*line = ansi.ReplaceAllString(*line, "")
			return true
		}, nil
	}
	return nil, fmt.Errorf("%w: stage %T", ErrUnsupportedLogQL, st)
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

func (p *pipeline) lineFilter(f *logql.LineFilter) (func(map[string]string, *string) bool, error) {
	switch f.Op {
	case "|=", "!=":
		if f.Op == "|=" && len(f.Values) == 1 {
			p.needles = append(p.needles, eventstore.InteriorTokens(f.Values[0])...)
		}
		want := f.Op == "|="
		return func(_ map[string]string, line *string) bool {
			for _, v := range f.Values {
				if strings.Contains(*line, v) {
					return want
				}
			}
			return !want
		}, nil
	case "|~", "!~":
		res := make([]*regexp.Regexp, len(f.Values))
		for i, v := range f.Values {
			re, err := regexp.Compile(v)
			if err != nil {
				return nil, fmt.Errorf("%w: %s %q: %v", ErrInvalidQuery, f.Op, v, err)
			}
			res[i] = re
		}
		want := f.Op == "|~"
		return func(_ map[string]string, line *string) bool {
			for _, re := range res {
				if re.MatchString(*line) {
					return want
				}
			}
			return !want
		}, nil
	}
	return nil, fmt.Errorf("%w: the pattern line filter %s", ErrUnsupportedLogQL, f.Op)
}

// addLabel sets an extracted label; one that clashes with a stream label
// gets the suffix _extracted, as in Loki.
func addLabel(labels map[string]string, k, v string, stream map[string]bool) {
	if stream[k] {
		k += "_extracted"
	}
	labels[k] = v
}

var labelSanitizer = regexp.MustCompile(`[^a-zA-Z0-9_]`)

func compileParser(st *logql.Parser) (func(map[string]string, *string) bool, error) {
	switch st.Kind {
	case "json":
		return func(labels map[string]string, line *string) bool {
			stream := keysOf(labels)
			err := eventstore.FlattenJSON(*line, func(k string, v eventstore.Value) {
				if len(st.Fields) > 0 {
					return
				}
				addLabel(labels, labelSanitizer.ReplaceAllString(k, "_"), v.String(), stream)
			})
			if err != nil {
				labels["__error__"] = "JSONParserErr"
				return true
			}
			if len(st.Fields) > 0 {
				flat := map[string]string{}
				_ = eventstore.FlattenJSON(*line, func(k string, v eventstore.Value) { flat[k] = v.String() })
				for name, path := range st.Fields {
					path = strings.NewReplacer("[", ".", "]", "", `"`, "").Replace(path)
					if v, ok := flat[path]; ok {
						addLabel(labels, name, v, stream)
					}
				}
			}
			return true
		}, nil
	case "logfmt":
		return func(labels map[string]string, line *string) bool {
			stream := keysOf(labels)
			kv, ok := parseLogfmt(*line)
			if !ok {
				labels["__error__"] = "LogfmtParserErr"
			}
			if len(st.Fields) > 0 {
				for name, key := range st.Fields {
					if v, ok := kv[key]; ok {
						addLabel(labels, name, v, stream)
					}
				}
				return true
			}
			for k, v := range kv {
				addLabel(labels, labelSanitizer.ReplaceAllString(k, "_"), v, stream)
			}
			return true
		}, nil
	case "regexp":
		re, err := regexp.Compile(st.Param)
		if err != nil {
			return nil, fmt.Errorf("%w: regexp %q: %v", ErrInvalidQuery, st.Param, err)
		}
		if re.NumSubexp() == 0 {
			return nil, fmt.Errorf("%w: regexp %q has no named capture group such as (?P<name>…)", ErrInvalidQuery, st.Param)
		}
		names := re.SubexpNames()
		return func(labels map[string]string, line *string) bool {
			stream := keysOf(labels)
			m := re.FindStringSubmatch(*line)
			for i, v := range m {
				if i > 0 && names[i] != "" {
					addLabel(labels, names[i], v, stream)
				}
			}
			return true
		}, nil
	}
	return nil, fmt.Errorf("%w: the %s parser", ErrUnsupportedLogQL, st.Kind)
}

func keysOf(m map[string]string) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// parseLogfmt reads key=value pairs (values bare or double-quoted); ok is
// false when something could not be read.
func parseLogfmt(s string) (map[string]string, bool) {
	out := map[string]string{}
	ok := true
	for i := 0; i < len(s); {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		j := i
		for j < len(s) && s[j] != '=' && s[j] != ' ' {
			j++
		}
		key := s[i:j]
		if j >= len(s) || s[j] == ' ' {
			if key != "" {
				out[key] = "" // a bare key
			}
			i = j
			continue
		}
		j++ // '='
		var val string
		if j < len(s) && s[j] == '"' {
			k := j + 1
			for k < len(s) && s[k] != '"' {
				if s[k] == '\\' {
					k++
				}
				k++
			}
			if k >= len(s) {
				return out, false
			}
			v, err := strconv.Unquote(s[j : k+1])
			if err != nil {
				v, ok = s[j+1:k], false
			}
			val, i = v, k+1
		} else {
			k := j
			for k < len(s) && s[k] != ' ' {
				k++
			}
			val, i = s[j:k], k
		}
		if key != "" {
			out[key] = val
		}
	}
	return out, ok
}

func compileLabelFilter(f *logql.LabelFilter) (func(map[string]string, *string) bool, error) {
	eval, err := labelFilterFunc(f)
	if err != nil {
		return nil, err
	}
	return func(labels map[string]string, _ *string) bool { return eval(labels) }, nil
}

func labelFilterFunc(f *logql.LabelFilter) (func(map[string]string) bool, error) {
	if f.And || f.Or {
		l, err := labelFilterFunc(f.L)
		if err != nil {
			return nil, err
		}
		r, err := labelFilterFunc(f.R)
		if err != nil {
			return nil, err
		}
		if f.And {
			return func(m map[string]string) bool { return l(m) && r(m) }, nil
		}
		return func(m map[string]string) bool { return l(m) || r(m) }, nil
	}
	name, op, v := f.Name, f.Op, f.Value
	if v.Kind == "string" {
		m, err := compileLabelMatcher(logql.Matcher{Name: name, Op: op, Value: v.Str})
		if err != nil {
			return nil, err
		}
		return func(labels map[string]string) bool { return m.matches(labels[name]) }, nil
	}
	parse := func(s string) (float64, bool) {
		switch v.Kind {
		case "duration":
			d, err := logql.ParseDuration(s)
			return d.Seconds(), err == nil
		case "bytes":
			n, err := logql.ParseBytes(s)
			return n, err == nil
		}
		n, err := strconv.ParseFloat(s, 64)
		return n, err == nil && !math.IsNaN(n)
	}
	return func(labels map[string]string) bool {
		s, present := labels[name]
		if !present {
			return false
		}
		x, ok := parse(s)
		if !ok {
			return false
		}
		switch op {
		case "=", "==":
			return x == v.Num
		case "!=":
			return x != v.Num
		case ">":
			return x > v.Num
		case ">=":
			return x >= v.Num
		case "<":
			return x < v.Num
		}
		return x <= v.Num
	}, nil
}
