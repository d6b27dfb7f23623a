package query

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// evalFn evaluates an expression on a row. It must not allocate on the
// common paths (field reads, comparisons, bin).
type evalFn func(*Row) Value

// compiler turns AST expressions into evaluators and records the columns
// they read.
type compiler struct {
	schema Schema
	cols   eventstore.Column
}

func errAt(p Pos, format string, args ...any) error {
	return &SyntaxError{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

func (c *compiler) expr(e Expr) (evalFn, error) {
	switch e := e.(type) {
	case *FieldRef:
		c.cols |= c.schema.columnsOf(e.Name)
		return c.schema.getter(e.Name), nil
	case *Literal:
		v := e.Val
		return func(*Row) Value { return v }, nil
	case *DurationLit:
		v := intV(int64(e.D))
		return func(*Row) Value { return v }, nil
	case *RegexLit:
		return nil, errAt(e.P, "a regex can only follow like or =~")
	case *Unary:
		x, err := c.expr(e.X)
		if err != nil {
			return nil, err
		}
		if e.Op == "not" {
			return func(r *Row) Value { return boolV(!x(r).truthy()) }, nil
		}
		return func(r *Row) Value { return arith("-", intV(0), x(r)) }, nil
	case *Binary:
		return c.binary(e)
	case *In:
		x, err := c.expr(e.X)
		if err != nil {
			return nil, err
		}
		list := make([]evalFn, len(e.List))
		for i, it := range e.List {
			if list[i], err = c.expr(it); err != nil {
				return nil, err
			}
		}
		not := e.Not
		return func(r *Row) Value {
			v := x(r)
			if v.K == Null {
				return boolV(false)
			}
			found := false
			for _, l := range list {
				if equal(v, l(r)) {
					found = true
					break
				}
			}
			return boolV(found != not)
		}, nil
	case *Like:
		x, err := c.expr(e.X)
		if err != nil {
			return nil, err
		}
		not := e.Not
		if re, ok := e.Pattern.(*RegexLit); ok {
			return func(r *Row) Value {
				v := x(r)
				return boolV(v.K != Null && re.Re.MatchString(v.String()) != not)
			}, nil
		}
		pat, err := c.expr(e.Pattern)
		if err != nil {
			return nil, err
		}
		return func(r *Row) Value {
			v := x(r)
			return boolV(v.K != Null && strings.Contains(v.String(), pat(r).String()) != not)
		}, nil
	case *Call:
		return c.call(e)
	}
	return nil, fmt.Errorf("unknown expression %T", e)
}

func (c *compiler) binary(e *Binary) (evalFn, error) {
	if e.Op == "=~" {
		x, err := c.expr(e.L)
		if err != nil {
			return nil, err
		}
		re, ok := e.R.(*RegexLit)
		if !ok {
			return nil, errAt(e.R.pos(), "expected a regex /…/ after =~")
		}
		return func(r *Row) Value {
			v := x(r)
			return boolV(v.K != Null && re.Re.MatchString(v.String()))
		}, nil
	}
	l, err := c.expr(e.L)
	if err != nil {
		return nil, err
	}
	rt, err := c.expr(e.R)
	if err != nil {
		return nil, err
	}
	switch op := e.Op; op {
	case "and":
		return func(r *Row) Value { return boolV(l(r).truthy() && rt(r).truthy()) }, nil
	case "or":
		return func(r *Row) Value { return boolV(l(r).truthy() || rt(r).truthy()) }, nil
	case "=":
		return func(r *Row) Value { return boolV(equal(l(r), rt(r))) }, nil
	case "!=":
		return func(r *Row) Value {
			a, b := l(r), rt(r)
			return boolV(a.K != Null && b.K != Null && !equal(a, b))
		}, nil
	case "<", "<=", ">", ">=":
		return func(r *Row) Value {
			a, b := l(r), rt(r)
			if a.K == Null || b.K == Null {
				return boolV(false)
			}
			c := compare(a, b)
			switch op {
			case "<":
				return boolV(c < 0)
			case "<=":
				return boolV(c <= 0)
			case ">":
				return boolV(c > 0)
			}
			return boolV(c >= 0)
		}, nil
	default:
		return func(r *Row) Value { return arith(op, l(r), rt(r)) }, nil
	}
}

// arith applies + - * / % ^; integers stay integers for + - * %.
func arith(op string, a, b Value) Value {
	if a.K == Int && b.K == Int {
		switch op {
		case "+":
			return intV(a.I + b.I)
		case "-":
			return intV(a.I - b.I)
		case "*":
			return intV(a.I * b.I)
		case "%":
			if b.I == 0 {
				return Value{}
			}
			return intV(a.I % b.I)
		}
	}
	x, ok1 := a.num()
	y, ok2 := b.num()
	if !ok1 || !ok2 {
		return Value{}
	}
	switch op {
	case "+":
		return floatV(x + y)
	case "-":
		return floatV(x - y)
	case "*":
		return floatV(x * y)
	case "/":
		if y == 0 {
			return Value{}
		}
		return floatV(x / y)
	case "%":
		if y == 0 {
			return Value{}
		}
		return floatV(math.Mod(x, y))
	case "^":
		return floatV(math.Pow(x, y))
	}
	return Value{}
}

// period reads a duration argument: 5m, or a number of seconds.
func period(e Expr) (time.Duration, error) {
	switch e := e.(type) {
	case *DurationLit:
		if e.D <= 0 {
			return 0, errAt(e.P, "the period must be positive")
		}
		return e.D, nil
	case *Literal:
		if f, ok := e.Val.num(); ok && f > 0 {
			return time.Duration(f * float64(time.Second)), nil
		}
	}
	return 0, errAt(e.pos(), "expected a period such as 5m, 1h or 30s")
}

func (c *compiler) call(e *Call) (evalFn, error) {
	name := strings.ToLower(e.Name)
	if _, ok := Aggregations[name]; ok {
		return nil, errAt(e.P, "%s() is an aggregation: use it in stats", e.Name)
	}
	if name == "bin" {
		d, err := period(e.Args[0])
		if err != nil {
			return nil, err
		}
		c.cols |= eventstore.ColTime
		ts := c.schema.getter("@timestamp")
		return func(r *Row) Value { return floorTime(ts(r), d) }, nil
	}
	if name == "datefloor" || name == "dateceil" {
		d, err := period(e.Args[1])
		if err != nil {
			return nil, err
		}
		x, err := c.expr(e.Args[0])
		if err != nil {
			return nil, err
		}
		ceil := name == "dateceil"
		return func(r *Row) Value {
			v := floorTime(x(r), d)
			if ceil && v.K == Time && v.I != x(r).I {
				v.I += int64(d)
			}
			return v
		}, nil
	}
	args := make([]evalFn, len(e.Args))
	for i, a := range e.Args {
		var err error
		if args[i], err = c.expr(a); err != nil {
			return nil, err
		}
	}
	fn, ok := scalarFuncs[name]
	if !ok {
		return nil, errAt(e.P, "unknown function %s", e.Name)
	}
	if len(args) == 1 {
		a := args[0]
		return func(r *Row) Value { v := a(r); return fn([]Value{v}) }, nil
	}
	return func(r *Row) Value {
		var buf [4]Value
		vs := buf[:0]
		for _, a := range args {
			vs = append(vs, a(r))
		}
		return fn(vs)
	}, nil
}

func floorTime(v Value, d time.Duration) Value {
	var ns int64
	switch v.K {
	case Time, Int:
		ns = v.I
	default:
		f, ok := v.num()
		if !ok {
			return Value{}
		}
		ns = int64(f)
	}
	ns -= ((ns % int64(d)) + int64(d)) % int64(d)
	return timeV(ns)
}

func num1(f func(float64) float64) func([]Value) Value {
	return func(v []Value) Value {
		x, ok := v[0].num()
		if !ok {
			return Value{}
		}
		return floatV(f(x))
	}
}

func str1(f func(string) Value) func([]Value) Value {
	return func(v []Value) Value {
		if v[0].K == Null {
			return Value{}
		}
		return f(v[0].String())
	}
}

func trimmer(f func(string, string) string, space func(string) string) func([]Value) Value {
	return func(v []Value) Value {
		if v[0].K == Null {
			return Value{}
		}
		if len(v) == 2 {
			return strV(f(v[0].String(), v[1].String()))
		}
		return strV(space(v[0].String()))
	}
}

func extreme(sign int) func([]Value) Value {
	return func(v []Value) Value {
		var best Value
		for _, x := range v {
			if x.K != Null && (best.K == Null || compare(x, best)*sign > 0) {
				best = x
			}
		}
		return best
	}
}

func ipIn(family int) func([]Value) Value {
	return func(v []Value) Value {
		ip, err1 := netip.ParseAddr(v[0].String())
		pfx, err2 := netip.ParsePrefix(v[1].String())
		if err1 != nil || err2 != nil || family == 4 && !ip.Is4() || family == 6 && !ip.Is6() {
			return boolV(false)
		}
		return boolV(pfx.Contains(ip))
	}
}

func isIP(family int) func([]Value) Value {
	return func(v []Value) Value {
		ip, err := netip.ParseAddr(v[0].String())
		return boolV(err == nil && (family == 0 || family == 4 && ip.Is4() || family == 6 && ip.Is6()))
	}
}

var scalarFuncs map[string]func([]Value) Value

func init() {
	scalarFuncs = map[string]func([]Value) Value{
		"abs":       num1(math.Abs),
		"ceil":      num1(math.Ceil),
		"floor":     num1(math.Floor),
		"log":       num1(math.Log),
		"sqrt":      num1(math.Sqrt),
		"greatest":  extreme(1),
		"least":     extreme(-1),
		"ispresent": func(v []Value) Value { return boolV(v[0].K != Null) },
		"coalesce": func(v []Value) Value {
			for _, x := range v {
				if x.K != Null {
					return x
				}
			}
			return Value{}
		},
		"isempty": func(v []Value) Value { return boolV(v[0].K == Null || v[0].String() == "") },
		"isblank": func(v []Value) Value { return boolV(v[0].K == Null || strings.TrimSpace(v[0].String()) == "") },
		"concat": func(v []Value) Value {
			var b strings.Builder
			for _, x := range v {
				b.WriteString(x.String())
			}
			return strV(b.String())
		},
		"ltrim":   trimmer(strings.TrimLeft, func(s string) string { return strings.TrimLeft(s, " \t\r\n") }),
		"rtrim":   trimmer(strings.TrimRight, func(s string) string { return strings.TrimRight(s, " \t\r\n") }),
		"trim":    trimmer(strings.Trim, strings.TrimSpace),
		"strlen":  str1(func(s string) Value { return intV(int64(utf8.RuneCountInString(s))) }),
		"toupper": str1(func(s string) Value { return strV(strings.ToUpper(s)) }),
		"tolower": str1(func(s string) Value { return strV(strings.ToLower(s)) }),
		"substr": func(v []Value) Value {
			if v[0].K == Null {
				return Value{}
			}
			rs := []rune(v[0].String())
			start, _ := v[1].num()
			s := min(max(int(start), 0), len(rs))
			e := len(rs)
			if len(v) == 3 {
				n, _ := v[2].num()
				e = min(s+max(int(n), 0), len(rs))
			}
			return strV(string(rs[s:e]))
		},
		"replace": func(v []Value) Value {
			if v[0].K == Null {
				return Value{}
			}
			return strV(strings.ReplaceAll(v[0].String(), v[1].String(), v[2].String()))
		},
		"strcontains": func(v []Value) Value {
			if v[0].K == Null || !strings.Contains(v[0].String(), v[1].String()) {
				return intV(0)
			}
			return intV(1)
		},
		"frommillis": func(v []Value) Value {
			f, ok := v[0].num()
			if !ok {
				return Value{}
			}
			return timeV(int64(f * 1e6))
		},
		"tomillis": func(v []Value) Value {
			if v[0].K == Time {
				return intV(v[0].I / 1e6)
			}
			if t, err := time.Parse(TimeFormat, v[0].String()); err == nil {
				return intV(t.UnixMilli())
			}
			return Value{}
		},
		"isvalidip":      isIP(0),
		"isvalidipv4":    isIP(4),
		"isvalidipv6":    isIP(6),
		"isipinsubnet":   ipIn(0),
		"isipv4insubnet": ipIn(4),
		"isipv6insubnet": ipIn(6),
	}
}
