package sampling

import (
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, text string
		want          bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"", "", true},
		{"", "a", false},
		{"a", "", false},
		{"GET", "GET", true},
		{"GET", "get", true}, // case-insensitive
		{"get", "GET", true},
		{"GET", "POST", false},
		{"/api/*", "/api/users/1", true},
		{"/api/*", "/api/", true},
		{"/api/*", "/apix", false},
		{"*.example.com", "www.Example.COM", true},
		{"*.example.com", "example.com", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "abbc", false},
		{"?", "é", true}, // '?' is one character, not one byte
		{"É*", "été", true},
		{"*a*b*", "xxaxxbxx", true},
		{"*a*b*", "xxbxxaxx", false},
		{"a*a*a*a*b", strings.Repeat("a", 60), false}, // no exponential backtracking
		{"**", "x", true},
		{"x*", "x", true},
		{"*x", "x", true},
		{"*?", "", false},
	}
	for _, tt := range tests {
		if got := GlobMatch(tt.pattern, tt.text); got != tt.want {
			t.Errorf("GlobMatch(%q, %q) = %v, want %v", tt.pattern, tt.text, got, tt.want)
		}
	}
}

func TestMatch(t *testing.T) {
	def := DefaultRule("")
	rule := func(name string, prio int, change func(*Rule)) Rule {
		r := Rule{RuleName: name, Priority: prio, ResourceARN: "*", ServiceName: "*", ServiceType: "*", Host: "*", HTTPMethod: "*", URLPath: "*", Version: 1}
		if change != nil {
			change(&r)
		}
		return r
	}
	checkout := rule("checkout", 10, func(r *Rule) { r.ServiceName = "checkout"; r.HTTPMethod = "POST" })
	health := rule("health", 1, func(r *Rule) { r.URLPath = "/health*" })
	tieB := rule("b-rule", 50, func(r *Rule) { r.ServiceName = "tie" })
	tieA := rule("a-rule", 50, func(r *Rule) { r.ServiceName = "tie" })
	prod := rule("prod", 20, func(r *Rule) { r.Attributes = map[string]string{"env": "prod*", "tier": "gold"} })
	ec2 := rule("ec2", 9000, func(r *Rule) { r.ServiceType = "AWS::EC2::*"; r.ResourceARN = "arn:aws:ec2:*" })
	rules := []Rule{def, tieB, checkout, prod, health, tieA, ec2} // unordered on purpose

	tests := []struct {
		name      string
		req       Request
		want      string
		keepEmpty bool // leave ServiceType and ResourceARN empty
	}{
		{"falls to Default", Request{ServiceName: "other", HTTPMethod: "GET", URLPath: "/"}, "Default", false},
		{"service and method", Request{ServiceName: "checkout", HTTPMethod: "POST", URLPath: "/pay"}, "checkout", false},
		{"case-insensitive method", Request{ServiceName: "Checkout", HTTPMethod: "post", URLPath: "/pay"}, "checkout", false},
		{"method differs", Request{ServiceName: "checkout", HTTPMethod: "GET", URLPath: "/pay"}, "Default", false},
		{"lower priority number wins", Request{ServiceName: "checkout", HTTPMethod: "POST", URLPath: "/health"}, "health", false},
		{"ties by name", Request{ServiceName: "tie", URLPath: "/x"}, "a-rule", false},
		{"all attributes match", Request{ServiceName: "s", Attributes: map[string]string{"env": "production", "tier": "GOLD"}}, "prod", false},
		{"one attribute missing", Request{ServiceName: "s", Attributes: map[string]string{"env": "prod"}}, "Default", false},
		{"one attribute differs", Request{ServiceName: "s", Attributes: map[string]string{"env": "dev", "tier": "gold"}}, "Default", false},
		{"service type and resource", Request{ServiceName: "s", ServiceType: "AWS::EC2::Instance", ResourceARN: "arn:aws:ec2:us-east-1:1:instance/i-1"}, "ec2", false},
		{"resource differs", Request{ServiceName: "s", ServiceType: "AWS::EC2::Instance", ResourceARN: "arn:aws:ecs:x"}, "Default", false},
		// As the SDKs do: a field the request lacks is not compared.
		{"empty request field not compared", Request{ServiceName: "checkout", URLPath: "/pay"}, "checkout", false},
		{"missing service type and resource not compared", Request{ServiceName: "s", Host: "h"}, "ec2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.keepEmpty && tt.req.ServiceType == "" && tt.req.ResourceARN == "" {
				// Otherwise rule ec2 would match: a field the request lacks is not compared.
				tt.req.ServiceType = "AWS::ECS::Container"
			}
			if tt.req.URLPath == "" {
				tt.req.URLPath = "/x" // likewise for rule health
			}
			if got := Match(rules, tt.req); got.RuleName != tt.want {
				t.Errorf("Match = %q, want %q", got.RuleName, tt.want)
			}
		})
	}
	if rules[0].RuleName != "Default" || rules[1].RuleName != "b-rule" {
		t.Error("Match reordered the caller's slice")
	}
	if got := Match([]Rule{checkout}, Request{ServiceName: "x"}); got.RuleName != "" {
		t.Errorf("no match returned %q, want the zero Rule", got.RuleName)
	}
}
