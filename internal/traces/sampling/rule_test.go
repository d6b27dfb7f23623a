package sampling

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func validRule() Rule {
	return Rule{
		RuleName: "checkout", ResourceARN: "*", Priority: 100, FixedRate: 0.1, ReservoirSize: 5,
		ServiceName: "checkout-*", ServiceType: "*", Host: "*", HTTPMethod: "POST", URLPath: "/api/*",
		Version: 1, Attributes: map[string]string{"env": "prod"},
	}
}

func TestRuleValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Rule)
		field  string // "" = valid
	}{
		{"valid", func(*Rule) {}, ""},
		{"no attributes", func(r *Rule) { r.Attributes = nil }, ""},
		{"rate bounds inclusive", func(r *Rule) { r.FixedRate = 1 }, ""},
		{"rate zero, reservoir zero", func(r *Rule) { r.FixedRate, r.ReservoirSize = 0, 0 }, ""},
		{"priority 1", func(r *Rule) { r.Priority = 1 }, ""},
		{"priority 9999", func(r *Rule) { r.Priority = 9999 }, ""},
		{"name 32 chars", func(r *Rule) { r.RuleName = strings.Repeat("n", 32) }, ""},
		{"name counts characters not bytes", func(r *Rule) { r.RuleName = strings.Repeat("é", 32) }, ""},
		{"empty name", func(r *Rule) { r.RuleName = "" }, "RuleName"},
		{"name 33 chars", func(r *Rule) { r.RuleName = strings.Repeat("n", 33) }, "RuleName"},
		{"priority 0", func(r *Rule) { r.Priority = 0 }, "Priority"},
		{"priority 10000 reserved for Default", func(r *Rule) { r.Priority = 10000 }, "Priority"},
		{"Default with another priority", func(r *Rule) { r.RuleName = "Default" }, "Priority"},
		{"negative rate", func(r *Rule) { r.FixedRate = -0.1 }, "FixedRate"},
		{"rate above 1", func(r *Rule) { r.FixedRate = 1.5 }, "FixedRate"},
		{"NaN rate", func(r *Rule) { r.FixedRate = math.NaN() }, "FixedRate"},
		{"negative reservoir", func(r *Rule) { r.ReservoirSize = -1 }, "ReservoirSize"},
		{"empty service name", func(r *Rule) { r.ServiceName = "" }, "ServiceName"},
		{"service name 65", func(r *Rule) { r.ServiceName = strings.Repeat("s", 65) }, "ServiceName"},
		{"service type 65", func(r *Rule) { r.ServiceType = strings.Repeat("s", 65) }, "ServiceType"},
		{"host 65", func(r *Rule) { r.Host = strings.Repeat("h", 65) }, "Host"},
		{"method 11", func(r *Rule) { r.HTTPMethod = strings.Repeat("M", 11) }, "HTTPMethod"},
		{"path 129", func(r *Rule) { r.URLPath = "/" + strings.Repeat("p", 128) }, "URLPath"},
		{"resource ARN 501", func(r *Rule) { r.ResourceARN = strings.Repeat("a", 501) }, "ResourceARN"},
		{"resource ARN 500", func(r *Rule) { r.ResourceARN = strings.Repeat("a", 500) }, ""},
		{"version 2", func(r *Rule) { r.Version = 2 }, "Version"},
		{"version missing", func(r *Rule) { r.Version = 0 }, "Version"},
		{"six attributes", func(r *Rule) {
			r.Attributes = map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6"}
		}, "Attributes"},
		{"empty attribute key", func(r *Rule) { r.Attributes = map[string]string{"": "x"} }, "Attributes key"},
		{"attribute value 33", func(r *Rule) { r.Attributes = map[string]string{"k": strings.Repeat("v", 33)} }, "Attributes[k]"},
		{"empty attribute value", func(r *Rule) { r.Attributes = map[string]string{"k": ""} }, "Attributes[k]"},
		{"invalid UTF-8", func(r *Rule) { r.Host = "\xff" }, "Host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRule()
			tt.change(&r)
			err := r.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidRule) {
				t.Fatalf("Validate() = %v, want a *ValidationError wrapping ErrInvalidRule", err)
			}
			if ve.Field != tt.field {
				t.Errorf("Field = %q, want %q (error %q)", ve.Field, tt.field, err)
			}
			if ve.Reason == "" || !strings.HasPrefix(err.Error(), tt.field+": ") {
				t.Errorf("error %q does not start with the field and give a reason", err)
			}
		})
	}
}

func TestDefaultRuleIsValidAndMatchesEverything(t *testing.T) {
	d := DefaultRule("arn")
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.Priority != 10000 || d.ReservoirSize != 1 || d.FixedRate != 0.05 {
		t.Errorf("Default = %+v", d)
	}
	req := Request{ServiceName: "x", ServiceType: "AWS::EC2::Instance", Host: "h", HTTPMethod: "GET", URLPath: "/", ResourceARN: "arn:x", Attributes: map[string]string{"a": "b"}}
	if got := Match([]Rule{d}, req); got.RuleName != DefaultRuleName {
		t.Errorf("Match = %q", got.RuleName)
	}
}

func ptr[T any](v T) *T { return &v }

func TestApplyUpdate(t *testing.T) {
	tests := []struct {
		name  string
		base  Rule
		u     RuleUpdate
		check func(t *testing.T, r Rule)
		err   error // nil = success
		field string
	}{
		{
			name: "partial update keeps other fields",
			base: validRule(), u: RuleUpdate{FixedRate: ptr(0.5), Host: ptr("api.*")},
			check: func(t *testing.T, r Rule) {
				if r.FixedRate != 0.5 || r.Host != "api.*" || r.Priority != 100 || r.URLPath != "/api/*" || r.Attributes["env"] != "prod" {
					t.Errorf("got %+v", r)
				}
			},
		},
		{
			name: "attributes replaced as a whole",
			base: validRule(), u: RuleUpdate{Attributes: map[string]string{"tier": "gold"}},
			check: func(t *testing.T, r Rule) {
				if len(r.Attributes) != 1 || r.Attributes["tier"] != "gold" {
					t.Errorf("attributes %v", r.Attributes)
				}
			},
		},
		{
			name: "empty attributes clear",
			base: validRule(), u: RuleUpdate{Attributes: map[string]string{}},
			check: func(t *testing.T, r Rule) {
				if r.Attributes != nil {
					t.Errorf("attributes %v", r.Attributes)
				}
			},
		},
		{name: "invalid result refused", base: validRule(), u: RuleUpdate{Priority: ptr(0)}, err: ErrInvalidRule, field: "Priority"},
		{
			name: "Default: rate and reservoir",
			base: DefaultRule("a"), u: RuleUpdate{FixedRate: ptr(0.2), ReservoirSize: ptr(3), Host: ptr("*")},
			check: func(t *testing.T, r Rule) {
				if r.FixedRate != 0.2 || r.ReservoirSize != 3 {
					t.Errorf("got %+v", r)
				}
			},
		},
		{name: "Default: host refused", base: DefaultRule("a"), u: RuleUpdate{Host: ptr("x")}, err: ErrDefaultRule, field: "Host"},
		{name: "Default: priority refused", base: DefaultRule("a"), u: RuleUpdate{Priority: ptr(5)}, err: ErrDefaultRule, field: "Priority"},
		{name: "Default: attributes refused", base: DefaultRule("a"), u: RuleUpdate{Attributes: map[string]string{"k": "v"}}, err: ErrDefaultRule, field: "Attributes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.base
			got, err := tt.base.apply(tt.u)
			if tt.err == nil {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, got)
				if before.Attributes["env"] != tt.base.Attributes["env"] {
					t.Error("apply changed the original rule's attributes")
				}
				return
			}
			var ve *ValidationError
			if !errors.Is(err, tt.err) || !errors.As(err, &ve) || ve.Field != tt.field {
				t.Fatalf("err = %v, want %v on %s", err, tt.err, tt.field)
			}
		})
	}
}

func TestNameFromARN(t *testing.T) {
	s := &Store{opts: Options{}.withDefaults()}
	if got := s.RuleARN("r1"); got != "arn:aws:xray:us-east-1:000000000000:sampling-rule/r1" {
		t.Fatalf("RuleARN = %s", got)
	}
	tests := []struct {
		name, arn, want string
		ok              bool
	}{
		{"r1", "", "r1", true},
		{"", "arn:aws:xray:us-east-1:000000000000:sampling-rule/r1", "r1", true},
		{"r1", "arn:aws:xray:us-east-1:000000000000:sampling-rule/r1", "r1", true},
		{"r2", "arn:aws:xray:us-east-1:000000000000:sampling-rule/r1", "", false},
		{"", "arn:aws:xray:eu-west-1:000000000000:sampling-rule/r1", "", false},
		{"", "arn:aws:xray:us-east-1:000000000000:sampling-rule/", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		got, err := s.ResolveName(tt.name, tt.arn)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ResolveName(%q, %q) = %q, %v", tt.name, tt.arn, got, err)
		}
		if err != nil && !errors.Is(err, ErrInvalidRule) {
			t.Errorf("ResolveName error %v is not ErrInvalidRule", err)
		}
	}
}
