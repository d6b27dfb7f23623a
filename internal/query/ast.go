package query

import (
	"fmt"
	"regexp"
	"time"
)

// Pos is a position in a query's text, 1-based.
type Pos struct{ Line, Column int }

// SyntaxError is an invalid query: where, and what was expected.
type SyntaxError struct {
	Pos
	Msg string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Expr is an expression of the query AST. Front ends build these; Compile
// turns them into evaluators.
type Expr interface{ pos() Pos }

type (
	// FieldRef names a field.
	FieldRef struct {
		P    Pos
		Name string
	}
	// Literal is a string, number or boolean constant.
	Literal struct {
		P   Pos
		Val Value
	}
	// RegexLit is /re/.
	RegexLit struct {
		P   Pos
		Re  *regexp.Regexp
		Src string
	}
	// DurationLit is a period such as 5m in bin(5m).
	DurationLit struct {
		P Pos
		D time.Duration
	}
	// Unary is not x or -x.
	Unary struct {
		P  Pos
		Op string
		X  Expr
	}
	// Binary is x op y: and or = != < <= > >= =~ + - * / % ^.
	Binary struct {
		P    Pos
		Op   string
		L, R Expr
	}
	// Call is a function call.
	Call struct {
		P    Pos
		Name string
		Args []Expr
	}
	// In is x [not] in [a, b].
	In struct {
		P    Pos
		X    Expr
		List []Expr
		Not  bool
	}
	// Like is x [not] like "substr" | /re/.
	Like struct {
		P       Pos
		X       Expr
		Pattern Expr
		Not     bool
	}
)

func (e *FieldRef) pos() Pos    { return e.P }
func (e *Literal) pos() Pos     { return e.P }
func (e *RegexLit) pos() Pos    { return e.P }
func (e *DurationLit) pos() Pos { return e.P }
func (e *Unary) pos() Pos       { return e.P }
func (e *Binary) pos() Pos      { return e.P }
func (e *Call) pos() Pos        { return e.P }
func (e *In) pos() Pos          { return e.P }
func (e *Like) pos() Pos        { return e.P }

// Command is one stage of a pipeline.
type Command interface{ cmd() }

// Projection is an expression and the field name it produces.
type Projection struct {
	Expr Expr
	Name string
}

// SortKey orders rows.
type SortKey struct {
	Expr Expr
	Desc bool
}

type (
	FieldsCmd  struct{ Items []Projection }
	DisplayCmd struct{ Names []string }
	FilterCmd  struct{ Cond Expr }
	StatsCmd   struct{ Aggs, By []Projection }
	SortCmd    struct{ Keys []SortKey }
	LimitCmd   struct{ N int }
	DedupCmd   struct{ Names []string }
	// ParseCmd extracts Names from Field with a glob (each * captures) or
	// a regex with named groups.
	ParseCmd struct {
		Field Expr
		Glob  string
		Re    *regexp.Regexp
		Names []string
	}
)

func (FieldsCmd) cmd()  {}
func (DisplayCmd) cmd() {}
func (FilterCmd) cmd()  {}
func (StatsCmd) cmd()   {}
func (SortCmd) cmd()    {}
func (LimitCmd) cmd()   {}
func (DedupCmd) cmd()   {}
func (ParseCmd) cmd()   {}

// Function arities: min and max arguments (-1: any number). Aggregations
// are listed separately; they are valid only in stats.
var Functions = map[string][2]int{
	"abs": {1, 1}, "ceil": {1, 1}, "floor": {1, 1}, "greatest": {1, -1}, "least": {1, -1}, "log": {1, 1}, "sqrt": {1, 1},
	"ispresent": {1, 1}, "coalesce": {1, -1},
	"isempty": {1, 1}, "isblank": {1, 1}, "concat": {1, -1}, "ltrim": {1, 2}, "rtrim": {1, 2}, "trim": {1, 2}, "strlen": {1, 1},
	"toupper": {1, 1}, "tolower": {1, 1}, "substr": {2, 3}, "replace": {3, 3}, "strcontains": {2, 2},
	"bin": {1, 1}, "datefloor": {2, 2}, "dateceil": {2, 2}, "frommillis": {1, 1}, "tomillis": {1, 1},
	"isvalidip": {1, 1}, "isvalidipv4": {1, 1}, "isvalidipv6": {1, 1},
	"isipinsubnet": {2, 2}, "isipv4insubnet": {2, 2}, "isipv6insubnet": {2, 2},
}

// Aggregations and their arities.
var Aggregations = map[string][2]int{
	"count": {0, 1}, "count_distinct": {1, 1}, "sum": {1, 1}, "avg": {1, 1}, "min": {1, 1}, "max": {1, 1},
	"pct": {2, 2}, "stddev": {1, 1}, "earliest": {1, 1}, "latest": {1, 1}, "sortsfirst": {1, 1}, "sortslast": {1, 1},
}
