package insights

import (
	"fmt"
	"strings"

	"github.com/miradorhq/mirador/internal/query"
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tNumber
	tDuration
	tString
	tRegex
	tOp // operators and punctuation
)

type token struct {
	kind tokKind
	text string // identifiers, operators, literal text; strings unquoted; regexes without slashes
	pos  query.Pos
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "the end of the query"
	case tString:
		return fmt.Sprintf("string %q", t.text)
	case tRegex:
		return fmt.Sprintf("regex /%s/", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// lex splits src into tokens. A '/' starts a regex where an operand is
// expected (after like, =~, '(', ',', or a command's field in parse);
// elsewhere it divides.
func lex(src string) ([]token, error) {
	var toks []token
	line, col := 1, 1
	i := 0
	advance := func(n int) {
		for k := 0; k < n; k++ {
			if src[i] == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
			i++
		}
	}
	for i < len(src) {
		c := src[i]
		pos := query.Pos{Line: line, Column: col}
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			advance(1)
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				advance(1)
			}
		case c == '"' || c == '\'':
			j := i + 1
			var b strings.Builder
			for j < len(src) && src[j] != c {
				if src[j] == '\\' && j+1 < len(src) {
					b.WriteByte(src[j+1])
					j += 2
					continue
				}
				b.WriteByte(src[j])
				j++
			}
			if j >= len(src) {
				return nil, &query.SyntaxError{Pos: pos, Msg: fmt.Sprintf("unterminated string: add the closing %c", c)}
			}
			toks = append(toks, token{tString, b.String(), pos})
			advance(j + 1 - i)
		case c == '`':
			j := strings.IndexByte(src[i+1:], '`')
			if j < 0 {
				return nil, &query.SyntaxError{Pos: pos, Msg: "unterminated `quoted field name`"}
			}
			toks = append(toks, token{tIdent, src[i+1 : i+1+j], pos})
			advance(j + 2)
		case c == '/' && regexAllowed(toks):
			j := i + 1
			for j < len(src) && src[j] != '/' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(src) {
				return nil, &query.SyntaxError{Pos: pos, Msg: "unterminated regex: end it with /"}
			}
			toks = append(toks, token{tRegex, src[i+1 : j], pos})
			advance(j + 1 - i)
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') && j+1 < len(src) && (src[j+1] >= '0' && src[j+1] <= '9' || (src[j+1] == '-' || src[j+1] == '+') && j+2 < len(src) && src[j+2] >= '0' && src[j+2] <= '9') {
				j += 2
				for j < len(src) && src[j] >= '0' && src[j] <= '9' {
					j++
				}
			}
			kind := tNumber
			if k := j; k < len(src) && isLetter(src[k]) {
				for k < len(src) && isLetter(src[k]) {
					k++
				}
				kind, j = tDuration, k
			}
			toks = append(toks, token{kind, src[i:j], pos})
			advance(j - i)
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdentByte(src[j]) {
				j++
			}
			toks = append(toks, token{tIdent, src[i:j], pos})
			advance(j - i)
		default:
			op := ""
			for _, o := range []string{"=~", "!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%", "^", "(", ")", ",", "|", "[", "]"} {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, &query.SyntaxError{Pos: pos, Msg: fmt.Sprintf("unexpected character %q", c)}
			}
			toks = append(toks, token{tOp, op, pos})
			advance(len(op))
		}
	}
	return append(toks, token{kind: tEOF, pos: query.Pos{Line: line, Column: col}}), nil
}

func regexAllowed(toks []token) bool {
	if len(toks) == 0 {
		return false
	}
	last := toks[len(toks)-1]
	switch last.kind {
	case tOp:
		return last.text == "=~" || last.text == "(" || last.text == "," || last.text == "["
	case tIdent:
		l := strings.ToLower(last.text)
		if l == "like" {
			return true
		}
		// parse @message /re/: the token before the field is "parse".
		return len(toks) >= 2 && toks[len(toks)-2].kind == tIdent && strings.EqualFold(toks[len(toks)-2].text, "parse")
	}
	return false
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isIdentStart(c byte) bool { return isLetter(c) || c == '_' || c == '@' || c == '$' }

func isIdentByte(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '.'
}
