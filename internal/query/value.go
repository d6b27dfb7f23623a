package query

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/miradorhq/mirador/internal/eventstore"
)

// Kind is the type of a Value.
type Kind uint8

// Value kinds. Time holds Unix nanoseconds in I.
const (
	Null Kind = iota
	Str
	Int
	Float
	Bool
	Time
)

// Value is a query value. It is a plain struct so evaluating expressions
// never allocates.
type Value struct {
	K Kind
	S string
	I int64
	F float64
}

func strV(s string) Value    { return Value{K: Str, S: s} }
func intV(i int64) Value     { return Value{K: Int, I: i} }
func floatV(f float64) Value { return Value{K: Float, F: f} }
func timeV(ns int64) Value   { return Value{K: Time, I: ns} }
func boolV(b bool) Value {
	if b {
		return Value{K: Bool, I: 1}
	}
	return Value{K: Bool}
}

func fromStore(v eventstore.Value) Value {
	switch v.Kind {
	case eventstore.KindInt:
		return intV(v.Int)
	case eventstore.KindFloat:
		return floatV(v.Float)
	case eventstore.KindBool:
		return boolV(v.Int != 0)
	}
	return strV(v.Str)
}

// TimeFormat is how timestamps render in results, as in CloudWatch.
const TimeFormat = "2006-01-02 15:04:05.000"

// String renders v as text.
func (v Value) String() string {
	switch v.K {
	case Str:
		return v.S
	case Int:
		return strconv.FormatInt(v.I, 10)
	case Float:
		return strconv.FormatFloat(v.F, 'g', -1, 64)
	case Bool:
		return strconv.FormatBool(v.I != 0)
	case Time:
		return time.Unix(0, v.I).UTC().Format(TimeFormat)
	}
	return ""
}

// num returns v as a number, parsing strings, as CloudWatch coerces.
func (v Value) num() (float64, bool) {
	switch v.K {
	case Int, Time:
		return float64(v.I), true
	case Float:
		return v.F, true
	case Bool:
		return float64(v.I), true
	case Str:
		s := strings.TrimSpace(v.S)
		if s == "" {
			return 0, false
		}
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil && !math.IsNaN(f)
	}
	return 0, false
}

func (v Value) truthy() bool {
	switch v.K {
	case Bool, Int:
		return v.I != 0
	case Float:
		return v.F != 0
	case Str:
		return v.S != ""
	case Time:
		return true
	}
	return false
}

// Any converts v for JSON results: string, int64, float64, bool or nil;
// times as formatted strings.
func (v Value) Any() any {
	switch v.K {
	case Str:
		return v.S
	case Int:
		return v.I
	case Float:
		if math.IsInf(v.F, 0) || math.IsNaN(v.F) {
			return v.String()
		}
		return v.F
	case Bool:
		return v.I != 0
	case Time:
		return v.String()
	}
	return nil
}

// compare orders a and b: numerically when both are numbers (or parse as
// numbers), else as strings. Nulls sort first.
func compare(a, b Value) int {
	if a.K == Null || b.K == Null {
		switch {
		case a.K == b.K:
			return 0
		case a.K == Null:
			return -1
		}
		return 1
	}
	if a.K == Time && b.K == Time {
		return cmpInt(a.I, b.I)
	}
	if a.K == Int && b.K == Int {
		return cmpInt(a.I, b.I)
	}
	if x, ok := a.num(); ok {
		if y, ok := b.num(); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(a.String(), b.String())
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// equal is compare == 0, except that nulls equal nothing.
func equal(a, b Value) bool {
	if a.K == Null || b.K == Null {
		return false
	}
	return compare(a, b) == 0
}
