package eventstore

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJSONDepth bounds nesting so hostile input cannot exhaust the stack.
const maxJSONDepth = 64

// FlattenJSON parses one JSON object and calls emit for every scalar in it,
// keyed by its dotted path ("a.b", "list.0.id"). Strings without escapes
// alias s. Nulls are skipped; empty objects and arrays emit nothing.
//
// It exists because decoding into map[string]any with encoding/json costs
// several allocations per field and dominates NDJSON ingest.
func FlattenJSON(s string, emit func(key string, v Value)) error {
	return flattenJSON(s, func(k string, v Value, null bool) {
		if !null {
			emit(k, v)
		}
	})
}

// FlattenJSONWithNulls is FlattenJSON that also reports nulls, with null
// true and a zero Value.
func FlattenJSONWithNulls(s string, emit func(key string, v Value, null bool)) error {
	return flattenJSON(s, emit)
}

func flattenJSON(s string, emit func(string, Value, bool)) error {
	p := jsonParser{s: s, emit: emit}
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return errors.New("not a JSON object")
	}
	if err := p.value("", 0); err != nil {
		return err
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return p.errorf("unexpected %q after the object", p.s[p.i])
	}
	return nil
}

type jsonParser struct {
	s    string
	i    int
	emit func(string, Value, bool)
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", p.i+1, fmt.Sprintf(format, args...))
}

func (p *jsonParser) skipSpace() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(path string, depth int) error {
	p.skipSpace()
	if p.i >= len(p.s) {
		return p.errorf("unexpected end of input")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(path, depth+1)
	case c == '[':
		return p.array(path, depth+1)
	case c == '"':
		str, err := p.str()
		if err != nil {
			return err
		}
		p.emit(path, StringValue(str), false)
	case c == '-' || c >= '0' && c <= '9':
		return p.number(path)
	case strings.HasPrefix(p.s[p.i:], "true"):
		p.i += 4
		p.emit(path, BoolValue(true), false)
	case strings.HasPrefix(p.s[p.i:], "false"):
		p.i += 5
		p.emit(path, BoolValue(false), false)
	case strings.HasPrefix(p.s[p.i:], "null"):
		p.i += 4
		p.emit(path, Value{}, true)
	default:
		return p.errorf("unexpected %q", c)
	}
	return nil
}

func (p *jsonParser) object(path string, depth int) error {
	if depth > maxJSONDepth {
		return p.errorf("nested deeper than %d levels", maxJSONDepth)
	}
	p.i++ // {
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return nil
	}
	for {
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return p.errorf("expected a quoted key")
		}
		k, err := p.str()
		if err != nil {
			return err
		}
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return p.errorf("expected ':' after key %q", k)
		}
		p.i++
		if err := p.value(joinPath(path, k), depth); err != nil {
			return err
		}
		p.skipSpace()
		if p.i >= len(p.s) {
			return p.errorf("unterminated object")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.errorf("expected ',' or '}' in object, found %q", p.s[p.i])
		}
	}
}

func (p *jsonParser) array(path string, depth int) error {
	if depth > maxJSONDepth {
		return p.errorf("nested deeper than %d levels", maxJSONDepth)
	}
	p.i++ // [
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return nil
	}
	for n := 0; ; n++ {
		if err := p.value(joinPath(path, strconv.Itoa(n)), depth); err != nil {
			return err
		}
		p.skipSpace()
		if p.i >= len(p.s) {
			return p.errorf("unterminated array")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return p.errorf("expected ',' or ']' in array, found %q", p.s[p.i])
		}
	}
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func (p *jsonParser) number(path string) error {
	start := p.i
	isFloat := false
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c >= '0' && c <= '9' || c == '-' || c == '+' {
			p.i++
			continue
		}
		if c == '.' || c == 'e' || c == 'E' {
			isFloat = true
			p.i++
			continue
		}
		break
	}
	lit := p.s[start:p.i]
	if !validNumber(lit) {
		p.i = start
		return p.errorf("invalid number %q", lit)
	}
	if !isFloat {
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			p.emit(path, IntValue(n), false)
			return nil
		}
	}
	f, _ := strconv.ParseFloat(lit, 64) // out of range: ±Inf, as encoding/json would refuse; keep the magnitude
	p.emit(path, FloatValue(f), false)
	return nil
}

// validNumber checks JSON's number grammar, which ParseFloat is laxer about
// (it takes "+1", "1_0", "0x10", "inf").
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// str reads a quoted string at p.i. Without escapes it aliases p.s.
func (p *jsonParser) str() (string, error) {
	p.i++ // opening quote
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			out := p.s[start:p.i]
			p.i++
			return validUTF8(out), nil
		case c == '\\':
			return p.escapedStr(start)
		case c < 0x20:
			return "", p.errorf("control character in string")
		}
		p.i++
	}
	return "", p.errorf("unterminated string")
}

func (p *jsonParser) escapedStr(start int) (string, error) {
	b := []byte(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return validUTF8(string(b)), nil
		case c < 0x20:
			return "", p.errorf("control character in string")
		case c != '\\':
			b = append(b, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			break
		}
		e := p.s[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errorf("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				if r2, ok := p.lowSurrogate(); ok {
					r = utf16.DecodeRune(r, r2)
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			p.i -= 2
			return "", p.errorf("invalid escape \\%c", e)
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	n, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(n), true
}

func (p *jsonParser) lowSurrogate() (rune, bool) {
	if !strings.HasPrefix(p.s[p.i:], `\u`) {
		return 0, false
	}
	save := p.i
	p.i += 2
	r, ok := p.hex4()
	if !ok || r < 0xDC00 || r > 0xDFFF {
		p.i = save
		return 0, false
	}
	return r, true
}

// validUTF8 replaces each invalid byte with U+FFFD, as encoding/json does.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(b)
}

// AppendAttrsJSON appends attrs as one flat JSON object whose keys are the
// attribute keys: strings as strings, integers without a fraction, floats
// always with one (so FlattenJSON reads each back with its kind), booleans
// as true/false. Non-finite floats become strings.
func AppendAttrsJSON(b []byte, attrs []Attr) []byte {
	b = append(b, '{')
	for i, a := range attrs {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, a.Key)
		b = append(b, ':')
		b = appendValueJSON(b, a.Value)
	}
	return append(b, '}')
}

func appendValueJSON(b []byte, v Value) []byte {
	switch v.Kind {
	case KindInt:
		return strconv.AppendInt(b, v.Int, 10)
	case KindBool:
		return strconv.AppendBool(b, v.Int != 0)
	case KindFloat:
		if math.IsInf(v.Float, 0) || math.IsNaN(v.Float) {
			return strconv.AppendQuote(b, strconv.FormatFloat(v.Float, 'g', -1, 64))
		}
		start := len(b)
		b = strconv.AppendFloat(b, v.Float, 'g', -1, 64)
		if !strings.ContainsAny(string(b[start:]), ".eE") {
			b = append(b, ".0"...)
		}
		return b
	}
	return AppendJSONString(b, v.Str)
}

// AppendJSONString appends s quoted as a JSON string (strconv.Quote's
// escapes are Go's, not JSON's: it writes \x00 forms).
func AppendJSONString[S ~string | ~[]byte](b []byte, s S) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// ParseAttrsJSON reads an object written by AppendAttrsJSON.
func ParseAttrsJSON(s string, dst []Attr) ([]Attr, error) {
	if s == "" || s == "{}" {
		return dst, nil
	}
	err := FlattenJSON(s, func(k string, v Value) { dst = append(dst, Attr{Key: k, Value: v}) })
	return dst, err
}
