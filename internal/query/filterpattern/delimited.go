package filterpattern

import (
	"strings"
)

// field is one slot of a space-delimited pattern: a name and, optionally,
// conditions on it joined by && and ||.
type field struct {
	name string
	cond jsonExpr // nil: any value
}

// parseDelimited reads `[a, b = 4*, ..., c]`.
func (ps *parser) parseDelimited(p *Pattern) error {
	ps.i++ // [
	for {
		ps.skipSpace()
		if ps.eof() {
			return ps.errorf("expected \"]\" to close the space-delimited pattern")
		}
		if ps.peek("...") {
			if p.ellipsis >= 0 {
				return ps.errorf("only one ... is allowed in a space-delimited pattern")
			}
			p.ellipsis = len(p.fields)
			p.fields = append(p.fields, field{})
			ps.i += 3
		} else {
			f, err := ps.parseSlot()
			if err != nil {
				return err
			}
			p.fields = append(p.fields, f)
		}
		ps.skipSpace()
		if ps.eof() {
			return ps.errorf("expected \",\" or \"]\"")
		}
		switch ps.s[ps.i] {
		case ',':
			ps.i++
		case ']':
			ps.i++
			return nil
		default:
			return ps.errorf("expected \",\" or \"]\" after a field, found %q", ps.rest(10))
		}
	}
}

// parseSlot reads `name`, `name = v`, or `w1 = ERROR || w1 = WARN`.
func (ps *parser) parseSlot() (field, error) {
	var ors orExpr
	var name string
	for {
		var ands andExpr
		for {
			ps.skipSpace()
			start := ps.i
			for !ps.eof() && isNameByte(ps.s[ps.i]) {
				ps.i++
			}
			if ps.i == start {
				return field{}, ps.errorf("expected a field name (letters, digits, - and _), found %q", ps.rest(10))
			}
			n := ps.s[start:ps.i]
			if name == "" {
				name = n
			}
			ps.skipSpace()
			if ps.eof() || ps.s[ps.i] == ',' || ps.s[ps.i] == ']' {
				if len(ands) == 0 && len(ors) == 0 {
					return field{name: name}, nil
				}
				ps.i = start
				return field{}, ps.errorf("expected a condition on %s (e.g. %s = value)", n, n)
			}
			c := &comparison{path: n}
			if !ps.operator(c) {
				return field{}, ps.errorf("expected an operator (=, !=, <, >, <=, >=), \",\" or \"]\" after %s, found %q", n, ps.rest(10))
			}
			ps.skipSpace()
			if err := ps.parseValue(c); err != nil {
				return field{}, err
			}
			ands = append(ands, c)
			ps.skipSpace()
			if !ps.peek("&&") {
				break
			}
			ps.i += 2
		}
		if len(ands) == 1 {
			ors = append(ors, ands[0])
		} else {
			ors = append(ors, ands)
		}
		if !ps.peek("||") {
			break
		}
		ps.i += 2
	}
	if len(ors) == 1 {
		return field{name: name, cond: ors[0]}, nil
	}
	return field{name: name, cond: ors}, nil
}

// splitFields splits a message on whitespace; "quoted" and [bracketed]
// runs are one field each, without their quotes or brackets.
func splitFields(msg string, dst []string) []string {
	i := 0
	for i < len(msg) {
		for i < len(msg) && (msg[i] == ' ' || msg[i] == '\t') {
			i++
		}
		if i >= len(msg) {
			break
		}
		switch msg[i] {
		case '"', '[':
			closer := byte('"')
			if msg[i] == '[' {
				closer = ']'
			}
			if j := strings.IndexByte(msg[i+1:], closer); j >= 0 {
				dst = append(dst, msg[i+1:i+1+j])
				i += j + 2
				continue
			}
		}
		start := i
		for i < len(msg) && msg[i] != ' ' && msg[i] != '\t' {
			i++
		}
		dst = append(dst, msg[start:i])
	}
	return dst
}
