package sampling

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// DefaultRuleName names the built-in rule every tenant has.
const DefaultRuleName = "Default"

// Limits of a rule's fields, as the X-Ray API reference gives them.
const (
	MaxRuleNameLen      = 32
	MinPriority         = 1
	MaxPriority         = 9999
	DefaultRulePriority = 10000
	MaxServiceNameLen   = 64
	MaxServiceTypeLen   = 64
	MaxHostLen          = 64
	MaxHTTPMethodLen    = 10
	MaxURLPathLen       = 128
	MaxResourceARNLen   = 500
	MaxAttributes       = 5
	MaxAttributeLen     = 32 // keys and values alike
	RuleVersion         = 1
	// MaxReservoirSize bounds ReservoirSize by the model's integer type
	// (32-bit in AWS's SDKs).
	MaxReservoirSize = math.MaxInt32
)

// Rule is an X-Ray sampling rule. Its JSON form is X-Ray's SamplingRule
// shape, field names included; String fields other than RuleName and
// RuleARN are glob patterns ('*' any run, '?' one character) matched
// case-insensitively (see Match).
type Rule struct {
	RuleName      string            `json:"RuleName"`
	RuleARN       string            `json:"RuleARN"`
	ResourceARN   string            `json:"ResourceARN"`
	Priority      int               `json:"Priority"`
	FixedRate     float64           `json:"FixedRate"`
	ReservoirSize int               `json:"ReservoirSize"`
	ServiceName   string            `json:"ServiceName"`
	ServiceType   string            `json:"ServiceType"`
	Host          string            `json:"Host"`
	HTTPMethod    string            `json:"HTTPMethod"`
	URLPath       string            `json:"URLPath"`
	Version       int               `json:"Version"`
	Attributes    map[string]string `json:"Attributes,omitempty"`
}

// RuleUpdate is a partial change of a rule, X-Ray's SamplingRuleUpdate:
// nil fields stay as they are. RuleName or RuleARN says which rule. A
// non-nil Attributes replaces the whole map (an empty one clears it).
type RuleUpdate struct {
	RuleName      *string           `json:"RuleName,omitempty"`
	RuleARN       *string           `json:"RuleARN,omitempty"`
	ResourceARN   *string           `json:"ResourceARN,omitempty"`
	Priority      *int              `json:"Priority,omitempty"`
	FixedRate     *float64          `json:"FixedRate,omitempty"`
	ReservoirSize *int              `json:"ReservoirSize,omitempty"`
	ServiceName   *string           `json:"ServiceName,omitempty"`
	ServiceType   *string           `json:"ServiceType,omitempty"`
	Host          *string           `json:"Host,omitempty"`
	HTTPMethod    *string           `json:"HTTPMethod,omitempty"`
	URLPath       *string           `json:"URLPath,omitempty"`
	Attributes    map[string]string `json:"Attributes,omitempty"`
}

// Errors of the rule store; callers test them with errors.Is. A
// *ValidationError (400) wraps ErrInvalidRule, or ErrDefaultRule when the
// request tried to delete the Default rule or change more than its
// FixedRate and ReservoirSize.
var (
	ErrNotFound    = errors.New("sampling rule not found")
	ErrExists      = errors.New("sampling rule already exists")
	ErrRuleLimit   = errors.New("too many sampling rules")
	ErrInvalidRule = errors.New("invalid sampling rule")
	ErrDefaultRule = errors.New("the Default sampling rule cannot be changed this way")
)

// ValidationError says which field of a rule or request is wrong and why.
type ValidationError struct {
	Field  string // X-Ray field name, e.g. "Priority" or "Attributes[env]"
	Reason string // what is wrong and what would be valid
	kind   error  // ErrInvalidRule or ErrDefaultRule
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidRule or ErrDefaultRule.
func (e *ValidationError) Unwrap() error {
	if e.kind == nil {
		return ErrInvalidRule
	}
	return e.kind
}

func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...), kind: ErrInvalidRule}
}

// DefaultRule returns the built-in rule as it is before any update:
// priority 10000, every pattern '*', one trace per second and 5% of the
// rest. ruleARN is its ARN (see Options.RuleARN).
func DefaultRule(ruleARN string) Rule {
	return Rule{
		RuleName: DefaultRuleName, RuleARN: ruleARN, ResourceARN: "*",
		Priority: DefaultRulePriority, FixedRate: 0.05, ReservoirSize: 1,
		ServiceName: "*", ServiceType: "*", Host: "*", HTTPMethod: "*", URLPath: "*",
		Version: RuleVersion,
	}
}

// Validate checks r against X-Ray's limits and returns a *ValidationError
// naming the first bad field. It does not check RuleARN against a region
// and account; the Store does.
func (r Rule) Validate() error {
	if err := checkLen("RuleName", r.RuleName, 1, MaxRuleNameLen); err != nil {
		return err
	}
	if r.RuleName == DefaultRuleName {
		if r.Priority != DefaultRulePriority {
			return invalid("Priority", "%d is not the Default rule's priority, which is always %d", r.Priority, DefaultRulePriority)
		}
	} else if r.Priority < MinPriority || r.Priority > MaxPriority {
		return invalid("Priority", "%d is out of range; use %d to %d (lower is evaluated first; %d is the Default rule's)", r.Priority, MinPriority, MaxPriority, DefaultRulePriority)
	}
	if math.IsNaN(r.FixedRate) || r.FixedRate < 0 || r.FixedRate > 1 {
		return invalid("FixedRate", "%v is out of range; use a fraction from 0 to 1, e.g. 0.05 for 5%%", r.FixedRate)
	}
	if r.ReservoirSize < 0 || r.ReservoirSize > MaxReservoirSize {
		return invalid("ReservoirSize", "%d is out of range; use 0 to %d traces per second", r.ReservoirSize, MaxReservoirSize)
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"ResourceARN", r.ResourceARN, MaxResourceARNLen},
		{"ServiceName", r.ServiceName, MaxServiceNameLen},
		{"ServiceType", r.ServiceType, MaxServiceTypeLen},
		{"Host", r.Host, MaxHostLen},
		{"HTTPMethod", r.HTTPMethod, MaxHTTPMethodLen},
		{"URLPath", r.URLPath, MaxURLPathLen},
	} {
		if f.value == "" {
			return invalid(f.name, "is empty; give a pattern, or * to match any value")
		}
		if err := checkLen(f.name, f.value, 1, f.max); err != nil {
			return err
		}
	}
	if r.Version != RuleVersion {
		return invalid("Version", "%d is not supported; the only sampling rule format version is %d", r.Version, RuleVersion)
	}
	return validateAttributes(r.Attributes)
}

func validateAttributes(attrs map[string]string) error {
	if len(attrs) > MaxAttributes {
		return invalid("Attributes", "has %d entries; at most %d are allowed", len(attrs), MaxAttributes)
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys) // report the same key first every time
	for _, k := range keys {
		if err := checkLen("Attributes key", k, 1, MaxAttributeLen); err != nil {
			return err
		}
		if err := checkLen("Attributes["+k+"]", attrs[k], 1, MaxAttributeLen); err != nil {
			return err
		}
	}
	return nil
}

// checkLen counts characters, as AWS's length constraints do.
func checkLen(field, value string, minLen, maxLen int) error {
	if !utf8.ValidString(value) {
		return invalid(field, "%q is not valid UTF-8", truncate(value, 40))
	}
	n := utf8.RuneCountInString(value)
	if n < minLen || n > maxLen {
		return invalid(field, "%q has %d characters; use %d to %d", truncate(value, 40), n, minLen, maxLen)
	}
	return nil
}

// apply returns r changed by u. It refuses to change the Default rule's
// fields other than FixedRate and ReservoirSize (setting one to its
// current value is allowed, as clients often send the whole rule back).
func (r Rule) apply(u RuleUpdate) (Rule, error) {
	out := r
	out.Attributes = r.Attributes
	setStr := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setStr(&out.ResourceARN, u.ResourceARN)
	setStr(&out.ServiceName, u.ServiceName)
	setStr(&out.ServiceType, u.ServiceType)
	setStr(&out.Host, u.Host)
	setStr(&out.HTTPMethod, u.HTTPMethod)
	setStr(&out.URLPath, u.URLPath)
	if u.Priority != nil {
		out.Priority = *u.Priority
	}
	if u.FixedRate != nil {
		out.FixedRate = *u.FixedRate
	}
	if u.ReservoirSize != nil {
		out.ReservoirSize = *u.ReservoirSize
	}
	if u.Attributes != nil {
		out.Attributes = nil
		if len(u.Attributes) > 0 {
			out.Attributes = make(map[string]string, len(u.Attributes))
			for k, v := range u.Attributes {
				out.Attributes[k] = v
			}
		}
	}
	if r.RuleName == DefaultRuleName {
		for _, f := range []struct {
			name     string
			old, new any
		}{
			{"ResourceARN", r.ResourceARN, out.ResourceARN},
			{"Priority", r.Priority, out.Priority},
			{"ServiceName", r.ServiceName, out.ServiceName},
			{"ServiceType", r.ServiceType, out.ServiceType},
			{"Host", r.Host, out.Host},
			{"HTTPMethod", r.HTTPMethod, out.HTTPMethod},
			{"URLPath", r.URLPath, out.URLPath},
		} {
			if f.old != f.new {
				return Rule{}, &ValidationError{Field: f.name, kind: ErrDefaultRule,
					Reason: fmt.Sprintf("the Default rule's %s is fixed at %v; only its FixedRate and ReservoirSize can be updated (create a rule with a lower priority to sample differently)", f.name, f.old)}
			}
		}
		if len(out.Attributes) > 0 {
			return Rule{}, &ValidationError{Field: "Attributes", kind: ErrDefaultRule,
				Reason: "the Default rule matches every request and cannot have attributes; only its FixedRate and ReservoirSize can be updated"}
		}
	}
	return out, out.Validate()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// ruleARN builds arn:aws:xray:<region>:<account>:sampling-rule/<name>.
func ruleARN(region, account, name string) string {
	return "arn:aws:xray:" + region + ":" + account + ":sampling-rule/" + name
}

// nameFromARN returns the rule name in arn, which must be in region and
// account.
func nameFromARN(region, account, arn string) (string, error) {
	prefix := ruleARN(region, account, "")
	name, ok := strings.CutPrefix(arn, prefix)
	if !ok || name == "" {
		return "", invalid("RuleARN", "%q is not a sampling rule ARN of this server; use %s<RuleName>, or give RuleName instead", truncate(arn, 80), prefix)
	}
	return name, nil
}
