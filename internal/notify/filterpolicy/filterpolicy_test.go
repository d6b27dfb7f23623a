package filterpolicy

import (
	"strings"
	"testing"
)

func mustParse(t *testing.T, policy string, scope Scope) *Policy {
	t.Helper()
	p, err := Parse([]byte(policy), scope)
	if err != nil {
		t.Fatalf("%s: %v", policy, err)
	}
	return p
}

// attrs builds message attributes: "s:" String, "n:" Number, "a:" String.Array, "b:" Binary.
func attrs(kv ...string) map[string]Attribute {
	m := map[string]Attribute{}
	types := map[string]string{"s": "String", "n": "Number", "a": "String.Array", "b": "Binary"}
	for i := 0; i < len(kv); i += 2 {
		typ, val, _ := strings.Cut(kv[i+1], ":")
		m[kv[i]] = Attribute{DataType: types[typ], Value: val}
	}
	return m
}

// TestAttributePolicies follows the examples of the SNS documentation.
func TestAttributePolicies(t *testing.T) {
	for _, tc := range []struct {
		policy string
		msg    map[string]Attribute
		want   bool
	}{
		{`{"store":["example_corp"]}`, attrs("store", "s:example_corp"), true},
		{`{"store":["example_corp"]}`, attrs("store", "s:Example_Corp"), false},
		{`{"store":["example_corp"]}`, attrs("other", "s:example_corp"), false},
		{`{"store":["example_corp"],"event":["order_placed"]}`, attrs("store", "s:example_corp", "event", "s:order_cancelled"), false},
		{`{"store":["example_corp"],"event":["order_placed"]}`, attrs("store", "s:example_corp", "event", "s:order_placed", "extra", "s:x"), true},
		{`{"customer_interests":["rugby","football","baseball"]}`, attrs("customer_interests", `a:["soccer","rugby","hockey"]`), true},
		{`{"customer_interests":["rugby"]}`, attrs("customer_interests", `a:["soccer","hockey"]`), false},
		{`{"price_usd":[{"numeric":[">=",100]}]}`, attrs("price_usd", "n:100"), true},
		{`{"price_usd":[{"numeric":[">",0,"<=",150]}]}`, attrs("price_usd", "n:150.0"), true},
		{`{"price_usd":[{"numeric":[">",0,"<=",150]}]}`, attrs("price_usd", "n:150.5"), false},
		{`{"price_usd":[{"numeric":["=",301.5]}]}`, attrs("price_usd", "n:3.015e2"), true},
		{`{"price_usd":[301.5]}`, attrs("price_usd", "n:301.50"), true},
		{`{"price_usd":[301.5]}`, attrs("price_usd", "s:301.5"), false},
		{`{"price_usd":[{"numeric":[">",0]}]}`, attrs("price_usd", "s:5"), false},
		{`{"event":[{"prefix":"order-"}]}`, attrs("event", "s:order-cancelled"), true},
		{`{"event":[{"suffix":"-cancelled"}]}`, attrs("event", "s:order-cancelled"), true},
		{`{"event":[{"equals-ignore-case":"ORDER"}]}`, attrs("event", "s:order"), true},
		{`{"store":[{"anything-but":["example_corp","other"]}]}`, attrs("store", "s:acme"), true},
		{`{"store":[{"anything-but":["example_corp","other"]}]}`, attrs("store", "s:other"), false},
		{`{"store":[{"anything-but":"example_corp"}]}`, attrs(), false},
		{`{"price":[{"anything-but":[100,500]}]}`, attrs("price", "n:200"), true},
		{`{"price":[{"anything-but":[100,500]}]}`, attrs("price", "n:500"), false},
		{`{"event":[{"anything-but":{"prefix":"order-"}}]}`, attrs("event", "s:refund-1"), true},
		{`{"event":[{"anything-but":{"prefix":"order-"}}]}`, attrs("event", "s:order-1"), false},
		{`{"store":[{"exists":true}]}`, attrs("store", "s:x"), true},
		{`{"store":[{"exists":false}]}`, attrs("other", "s:x"), true},
		{`{"store":[{"exists":false}]}`, attrs("store", "s:x"), false},
		{`{"store":[{"exists":true}]}`, attrs("store", "b:AAAA"), false}, // Binary is not considered
		{`{"source_ip":[{"cidr":"10.0.0.0/24"}]}`, attrs("source_ip", "s:10.0.0.255"), true},
		{`{"source_ip":[{"cidr":"10.0.0.0/24"}]}`, attrs("source_ip", "s:10.0.1.0"), false},
		{`{"source_ip":[{"cidr":"2001:db8::/32"}]}`, attrs("source_ip", "s:2001:db8::1"), true},
		{`{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"namespace":["AWS/EC2"]}]}`, attrs("source", "s:aws.cloudwatch", "namespace", "s:AWS/EC2"), true},
		{`{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"namespace":["AWS/EC2"]}]}`, attrs("source", "s:aws.cloudwatch", "namespace", "s:AWS/ES"), false},
	} {
		if got := mustParse(t, tc.policy, MessageAttributes).MatchAttributes(tc.msg); got != tc.want {
			t.Errorf("%s on %v: %v, want %v", tc.policy, tc.msg, got, tc.want)
		}
	}
}

func TestBodyPolicies(t *testing.T) {
	p := mustParse(t, `{"patient":{"name":[{"prefix":"A"}],"age":[{"numeric":[">=",18]}]},"tags":["vip"]}`, MessageBody)
	for body, want := range map[string]bool{
		`{"patient":{"name":"Alice","age":30},"tags":["new","vip"]}`: true,
		`{"patient":{"name":"Bob","age":30},"tags":["vip"]}`:         false,
		`{"patient":{"name":"Alice","age":12},"tags":["vip"]}`:       false,
		`{"patient":"Alice","tags":["vip"]}`:                         false,
		`not json`:                                                   false,
		`[1,2]`:                                                      false,
	} {
		if got := p.MatchBody([]byte(body)); got != want {
			t.Errorf("%s: %v, want %v", body, got, want)
		}
	}
}

func TestPolicyErrors(t *testing.T) {
	for policy, want := range map[string]string{
		`[1]`: "not a JSON object",
		`{"a":["x"],"b":["x"],"c":["x"],"d":["x"],"e":["x"],"f":["x"]}`: "6 keys; at most 5",
		`{"a":"x"}`:                                 "a: want an array of values",
		`{"a":[]}`:                                  "a: the array of values is empty",
		`{"a":{"b":["x"]}}`:                         "nested objects need FilterPolicyScope MessageBody",
		`{"a":[{"numeric":[">",1,">",2]}]}`:         "two lower bounds",
		`{"a":[{"numeric":["~",1]}]}`:               "numeric operator ~",
		`{"a":[{"numeric":[">",2e9]}]}`:             "not a number from -1e9 to 1e9",
		`{"a":[{"cidr":"10.0.0.1"}]}`:               "not an IP prefix",
		`{"a":[{"exists":"yes"}]}`:                  "exists takes true or false",
		`{"a":[{"regex":"x"}]}`:                     "unknown operator \"regex\"",
		`{"a":[{"prefix":"x","suffix":"y"}]}`:       "exactly one key",
		`{"a":[null]}`:                              "use {\"exists\": false}",
		`{"a":[{"anything-but":{"wildcard":"x"}}]}`: "anything-but takes prefix or suffix",
		`{"$or":[{"a":["x"]}]}`:                     "at least two policies",
		`{"a":["1","2","3","4","5","6","7","8","9","10","11","12","13"],"b":["1","2","3","4","5","6","7","8","9","10","11","12"]}`: "156 combinations",
	} {
		if _, err := Parse([]byte(policy), MessageAttributes); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", policy, err, want)
		}
	}
	if _, err := Parse([]byte(`{"a":["x"]}`), "Headers"); err == nil || !strings.Contains(err.Error(), "FilterPolicyScope") {
		t.Errorf("bad scope: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"store":["example_corp"],"price":[{"numeric":[">",0,"<=",150]}],"$or":[{"a":[{"prefix":"x"}]},{"b":[{"anything-but":[1,2]}]}]}`), []byte(`{"store":"example_corp","price":5,"a":"xy"}`))
	f.Add([]byte(`{"p":{"q":[{"exists":false}],"r":[{"cidr":"10.0.0.0/8"}]}}`), []byte(`{"p":{"r":"10.1.2.3"}}`))
	f.Fuzz(func(t *testing.T, policy, body []byte) {
		for _, scope := range []Scope{MessageAttributes, MessageBody} {
			p, err := Parse(policy, scope)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "filter policy") {
					t.Fatalf("error %q does not say it is about the filter policy", err)
				}
				continue
			}
			p.MatchBody(body)
			p.MatchAttributes(map[string]Attribute{"a": {DataType: "String.Array", Value: string(body)}, "n": {DataType: "Number", Value: string(body)}})
		}
	})
}
