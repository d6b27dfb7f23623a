package logql

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tDuration
	tBytes
	tOp // punctuation and operators
)

type token struct {
	kind tokKind
	text string // the identifier, the unquoted string, the operator or the literal
	pos  Pos
}

// Pos is a position in the query, 1-based.
type Pos struct{ Line, Column int }

// SyntaxError is a parse error at a position.
type SyntaxError struct {
	Pos Pos
	Msg string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("parse error at line %d, col %d: %s", e.Pos.Line, e.Pos.Column, e.Msg)
}

// operators, longest first so the lexer matches greedily.
var operators = []string{"|=", "|~", "|>", "!=", "!~", "!>", "=~", "==", ">=", "<=", "(", ")", "{", "}", "[", "]", ",", "|", "=", ">", "<", "+", "-", "*", "/", "%", "^"}

type lexer struct {
	src  string
	i    int
	line int
	col  int
}

func (l *lexer) pos() Pos { return Pos{l.line, l.col} }

func (l *lexer) advance(n int) {
	for _, r := range l.src[l.i : l.i+n] {
		if r == '\n' {
			l.line, l.col = l.line+1, 1
		} else {
			l.col++
		}
	}
	l.i += n
}

func (l *lexer) next() (token, error) {
	for l.i < len(l.src) {
		r, size := utf8.DecodeRuneInString(l.src[l.i:])
		if r == '#' { // comment to end of line
			end := strings.IndexByte(l.src[l.i:], '\n')
			if end < 0 {
				end = len(l.src) - l.i
			}
			l.advance(end)
			continue
		}
		if !unicode.IsSpace(r) {
			break
		}
		l.advance(size)
	}
	p := l.pos()
	if l.i >= len(l.src) {
		return token{kind: tEOF, pos: p}, nil
	}
	c := l.src[l.i]
	switch {
	case c == '"' || c == '`':
		return l.str(p)
	case c >= '0' && c <= '9' || c == '.' && l.i+1 < len(l.src) && l.src[l.i+1] >= '0' && l.src[l.i+1] <= '9':
		return l.number(p)
	case isIdentStart(c):
		j := l.i
		for j < len(l.src) && isIdentChar(l.src[j]) {
			j++
		}
		t := token{kind: tIdent, text: l.src[l.i:j], pos: p}
		l.advance(j - l.i)
		return t, nil
	}
	for _, op := range operators {
		if strings.HasPrefix(l.src[l.i:], op) {
			l.advance(len(op))
			return token{kind: tOp, text: op, pos: p}, nil
		}
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.i:])
	return token{}, &SyntaxError{p, fmt.Sprintf("unexpected character %q", r)}
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }

func (l *lexer) str(p Pos) (token, error) {
	q := l.src[l.i]
	if q == '`' {
		end := strings.IndexByte(l.src[l.i+1:], '`')
		if end < 0 {
			return token{}, &SyntaxError{p, "unterminated raw string: a ` is missing"}
		}
		t := token{kind: tString, text: l.src[l.i+1 : l.i+1+end], pos: p}
		l.advance(end + 2)
		return t, nil
	}
	j := l.i + 1
	for j < len(l.src) && l.src[j] != '"' {
		if l.src[j] == '\\' {
			j++
		}
		if j < len(l.src) && l.src[j] == '\n' {
			break
		}
		j++
	}
	if j >= len(l.src) || l.src[j] != '"' {
		return token{}, &SyntaxError{p, "unterminated string: a \" is missing"}
	}
	s, err := strconv.Unquote(l.src[l.i : j+1])
	if err != nil {
		return token{}, &SyntaxError{p, fmt.Sprintf("invalid string %s: %v", l.src[l.i:j+1], err)}
	}
	t := token{kind: tString, text: s, pos: p}
	l.advance(j + 1 - l.i)
	return t, nil
}

// number reads a number, a duration (5m, 1h30m, 250ms) or a byte size
// (10KB, 1.5MiB).
func (l *lexer) number(p Pos) (token, error) {
	j := l.i
	for j < len(l.src) && (l.src[j] >= '0' && l.src[j] <= '9' || l.src[j] == '.' || l.src[j] == 'e' && j+1 < len(l.src) && (l.src[j+1] == '-' || l.src[j+1] == '+' || l.src[j+1] >= '0' && l.src[j+1] <= '9') || (l.src[j] == '-' || l.src[j] == '+') && j > l.i && l.src[j-1] == 'e') {
		j++
	}
	k := j
	for k < len(l.src) && (isIdentChar(l.src[k]) || l.src[k] >= '0' && l.src[k] <= '9') {
		k++
	}
	lit := l.src[l.i:k]
	kind := tNumber
	if k > j {
		switch {
		case isDuration(lit):
			kind = tDuration
		case isBytes(lit):
			kind = tBytes
		default:
			return token{}, &SyntaxError{p, fmt.Sprintf("invalid number, duration or byte size %q", lit)}
		}
	} else if _, err := strconv.ParseFloat(lit, 64); err != nil {
		return token{}, &SyntaxError{p, fmt.Sprintf("invalid number %q", lit)}
	}
	l.advance(k - l.i)
	return token{kind: kind, text: lit, pos: p}, nil
}

func isDuration(s string) bool {
	_, err := ParseDuration(s)
	return err == nil
}

func isBytes(s string) bool {
	_, err := ParseBytes(s)
	return err == nil
}
