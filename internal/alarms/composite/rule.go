// Package composite parses and evaluates composite alarm rules, CloudWatch's
// AlarmRule language: ALARM(x), OK(x), INSUFFICIENT_DATA(x), TRUE, FALSE,
// AND, OR, NOT and parentheses, where x is an alarm name or ARN, bare or
// double-quoted. NOT binds tighter than AND, AND tighter than OR.
package composite

import (
	"fmt"
	"strings"
)

// Limits of a rule, as CloudWatch's.
const (
	MaxRuleLength = 10240
	MaxChildren   = 100
	MaxElements   = 500
)

// Rule is a parsed AlarmRule.
type Rule struct {
	root     node
	children []string // distinct alarm names, in order of appearance
}

// SyntaxError says where a rule is wrong and what was expected there.
type SyntaxError struct {
	Offset int // byte offset, from 0
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("AlarmRule: at character %d: %s", e.Offset+1, e.Msg)
}

type node interface {
	eval(state func(alarm string) string) bool
}

type constant bool

func (c constant) eval(func(string) string) bool { return bool(c) }

type stateIs struct{ state, alarm string }

func (s stateIs) eval(state func(string) string) bool { return state(s.alarm) == s.state }

type not struct{ x node }

func (n not) eval(state func(string) string) bool { return !n.x.eval(state) }

type and struct{ l, r node }

func (a and) eval(state func(string) string) bool { return a.l.eval(state) && a.r.eval(state) }

type or struct{ l, r node }

func (o or) eval(state func(string) string) bool { return o.l.eval(state) || o.r.eval(state) }

// Eval reports whether the rule holds, given each child alarm's state
// ("OK", "ALARM" or "INSUFFICIENT_DATA").
func (r *Rule) Eval(state func(alarm string) string) bool { return r.root.eval(state) }

// Children lists the alarms the rule names, once each.
func (r *Rule) Children() []string { return r.children }

// Parse parses an AlarmRule. Alarm ARNs are reduced to alarm names
// (arn:aws:cloudwatch:region:account:alarm:NAME).
func Parse(src string) (*Rule, error) {
	if len(src) > MaxRuleLength {
		return nil, &SyntaxError{Offset: MaxRuleLength, Msg: fmt.Sprintf("the rule is %d characters long; at most %d are allowed", len(src), MaxRuleLength)}
	}
	p := &parser{src: src, seen: map[string]bool{}}
	r := &Rule{}
	var err error
	if r.root, err = p.or(); err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(src) {
		return nil, p.errorf("expected AND, OR or the end of the rule, found %q", p.peekWord())
	}
	r.children = p.children
	return r, nil
}

type parser struct {
	src      string
	pos      int
	elements int
	seen     map[string]bool
	children []string
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) space() {
	for p.pos < len(p.src) && strings.IndexByte(" \t\r\n", p.src[p.pos]) >= 0 {
		p.pos++
	}
}

// peekWord returns the identifier (or single character) at pos.
func (p *parser) peekWord() string {
	end := p.pos
	for end < len(p.src) && (isIdent(p.src[end])) {
		end++
	}
	if end == p.pos && end < len(p.src) {
		end++
	}
	return p.src[p.pos:end]
}

func isIdent(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// keyword consumes word (case-insensitive) if it is next and whole.
func (p *parser) keyword(word string) bool {
	p.space()
	if strings.EqualFold(p.peekWord(), word) {
		p.pos += len(word)
		return true
	}
	return false
}

func (p *parser) element() error {
	p.elements++
	if p.elements > MaxElements {
		return p.errorf("the rule has more than %d elements", MaxElements)
	}
	return nil
}

func (p *parser) or() (node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("OR") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = or{l, r}
	}
	return l, nil
}

func (p *parser) and() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("AND") {
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = and{l, r}
	}
	return l, nil
}

func (p *parser) unary() (node, error) {
	if err := p.element(); err != nil {
		return nil, err
	}
	if p.keyword("NOT") {
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return not{x}, nil
	}
	p.space()
	if p.pos < len(p.src) && p.src[p.pos] == '(' {
		p.pos++
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.src) || p.src[p.pos] != ')' {
			return nil, p.errorf("expected ) to close the parenthesis")
		}
		p.pos++
		return x, nil
	}
	switch {
	case p.keyword("TRUE"):
		return constant(true), nil
	case p.keyword("FALSE"):
		return constant(false), nil
	}
	for _, state := range []string{"ALARM", "OK", "INSUFFICIENT_DATA"} {
		if p.keyword(state) {
			name, err := p.alarmName()
			if err != nil {
				return nil, err
			}
			return stateIs{state, name}, nil
		}
	}
	if p.pos >= len(p.src) {
		return nil, p.errorf("expected ALARM(name), OK(name), INSUFFICIENT_DATA(name), TRUE, FALSE, NOT or (, found the end of the rule")
	}
	return nil, p.errorf("expected ALARM(name), OK(name), INSUFFICIENT_DATA(name), TRUE, FALSE, NOT or (, found %q", p.peekWord())
}

// alarmName reads "(name)" or "(\"name\")".
func (p *parser) alarmName() (string, error) {
	p.space()
	if p.pos >= len(p.src) || p.src[p.pos] != '(' {
		return "", p.errorf("expected ( and an alarm name")
	}
	p.pos++
	p.space()
	var name string
	if p.pos < len(p.src) && p.src[p.pos] == '"' {
		end := strings.IndexByte(p.src[p.pos+1:], '"')
		if end < 0 {
			return "", p.errorf("unterminated quoted alarm name: end it with \"")
		}
		name = p.src[p.pos+1 : p.pos+1+end]
		p.pos += end + 2
		p.space()
	} else {
		end := strings.IndexAny(p.src[p.pos:], "()\"")
		if end < 0 {
			return "", p.errorf("expected ) after the alarm name")
		}
		name = strings.TrimSpace(p.src[p.pos : p.pos+end])
		p.pos += end
	}
	if p.pos >= len(p.src) || p.src[p.pos] != ')' {
		return "", p.errorf("expected ) after the alarm name")
	}
	p.pos++
	if i := strings.Index(name, ":alarm:"); strings.HasPrefix(name, "arn:") && i >= 0 {
		name = name[i+len(":alarm:"):]
	}
	if name == "" {
		return "", p.errorf("the alarm name is empty")
	}
	if !p.seen[name] {
		if len(p.children) == MaxChildren {
			return "", p.errorf("the rule names more than %d alarms", MaxChildren)
		}
		p.seen[name] = true
		p.children = append(p.children, name)
	}
	return name, nil
}

// Cycle returns a path of alarms that would lead from alarm back to itself
// if alarm had the given children, or nil. childrenOf gives the children of
// the other composite alarms (nil for metric alarms).
func Cycle(alarm string, children []string, childrenOf func(alarm string) []string) []string {
	visited := map[string]bool{}
	var walk func(name string, path []string) []string
	walk = func(name string, path []string) []string {
		if name == alarm {
			return append(path, name)
		}
		if visited[name] {
			return nil
		}
		visited[name] = true
		for _, c := range childrenOf(name) {
			if found := walk(c, append(path, name)); found != nil {
				return found
			}
		}
		return nil
	}
	for _, c := range children {
		if found := walk(c, []string{alarm}); found != nil {
			return found
		}
	}
	return nil
}
