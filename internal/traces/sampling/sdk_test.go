package sampling

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/awserr"
	"github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/session"
	awsxray "github.com/aws/aws-sdk-go/service/xray"
	xraysampling "github.com/aws/aws-xray-sdk-go/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"
)

// recorder counts the requests the handler served, by path, and keeps
// the bodies of SamplingTargets calls.
type recorder struct {
	next http.Handler

	mu      sync.Mutex
	counts  map[string]int
	targets []string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	rec.mu.Lock()
	rec.counts[r.URL.Path]++
	if r.URL.Path == "/SamplingTargets" {
		rec.targets = append(rec.targets, string(body))
	}
	rec.mu.Unlock()
	rec.next.ServeHTTP(w, r)
}

func (rec *recorder) count(path string) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.counts[path]
}

// newAPIClient returns the AWS SDK's own X-Ray client pointed at url.
func newAPIClient(t *testing.T, url string) *awsxray.XRay {
	t.Helper()
	sess, err := session.NewSession(&aws.Config{
		Region:      aws.String("us-east-1"),
		Endpoint:    aws.String(url),
		Credentials: credentials.NewStaticCredentials("AKID", "SECRET", ""),
		MaxRetries:  aws.Int(0),
	})
	if err != nil {
		t.Fatal(err)
	}
	return awsxray.New(sess)
}

func sdkRule(name string, priority int64, service string, reservoir int64, rate float64) *awsxray.SamplingRule {
	return &awsxray.SamplingRule{
		RuleName: aws.String(name), Priority: aws.Int64(priority), FixedRate: aws.Float64(rate),
		ReservoirSize: aws.Int64(reservoir), ServiceName: aws.String(service), ServiceType: aws.String("*"),
		Host: aws.String("*"), HTTPMethod: aws.String("*"), URLPath: aws.String("*"),
		ResourceARN: aws.String("*"), Version: aws.Int64(1),
	}
}

// TestAWSSDKManagesRules drives the rule operations with the AWS SDK for
// Go's X-Ray client: requests it builds decode, responses and errors it
// parses come out right.
func TestAWSSDKManagesRules(t *testing.T) {
	svc := NewService(openMeta(t), Options{})
	srv := httptest.NewServer(svc.Handler(func(*http.Request) (string, error) { return "acme", nil }))
	defer srv.Close()
	api := newAPIClient(t, srv.URL)

	out, err := api.CreateSamplingRule(&awsxray.CreateSamplingRuleInput{SamplingRule: sdkRule("api", 5, "api", 2, 0.5)})
	if err != nil {
		t.Fatal(err)
	}
	rec := out.SamplingRuleRecord
	if aws.StringValue(rec.SamplingRule.RuleARN) != "arn:aws:xray:us-east-1:000000000000:sampling-rule/api" ||
		rec.CreatedAt == nil || time.Since(*rec.CreatedAt) > time.Minute {
		t.Errorf("created record %v", rec)
	}

	_, err = api.CreateSamplingRule(&awsxray.CreateSamplingRuleInput{SamplingRule: sdkRule("api", 5, "api", 2, 0.5)})
	var aerr awserr.RequestFailure
	if !errors.As(err, &aerr) || aerr.Code() != "InvalidRequestException" || aerr.StatusCode() != 400 || !strings.Contains(aerr.Message(), "already exists") {
		t.Errorf("duplicate create: %v", err)
	}
	many := sdkRule("limit", 5, "x", 1, 0)
	for i := range DefaultMaxRules {
		many.RuleName = aws.String(fmt.Sprintf("r%d", i))
		_, err = api.CreateSamplingRule(&awsxray.CreateSamplingRuleInput{SamplingRule: many})
	}
	if !errors.As(err, &aerr) || aerr.Code() != "RuleLimitExceededException" {
		t.Errorf("create beyond the limit: %v", err)
	}

	upd, err := api.UpdateSamplingRule(&awsxray.UpdateSamplingRuleInput{SamplingRuleUpdate: &awsxray.SamplingRuleUpdate{
		RuleARN: aws.String("arn:aws:xray:us-east-1:000000000000:sampling-rule/api"), FixedRate: aws.Float64(0.25),
	}})
	if err != nil || aws.Float64Value(upd.SamplingRuleRecord.SamplingRule.FixedRate) != 0.25 || aws.Int64Value(upd.SamplingRuleRecord.SamplingRule.ReservoirSize) != 2 {
		t.Errorf("update: %v, %v", upd, err)
	}

	_, err = api.DeleteSamplingRule(&awsxray.DeleteSamplingRuleInput{RuleName: aws.String("Default")})
	if !errors.As(err, &aerr) || aerr.Code() != "InvalidRequestException" || !strings.Contains(aerr.Message(), "cannot be deleted") {
		t.Errorf("delete Default: %v", err)
	}
	del, err := api.DeleteSamplingRule(&awsxray.DeleteSamplingRuleInput{RuleName: aws.String("api")})
	if err != nil || aws.StringValue(del.SamplingRuleRecord.SamplingRule.RuleName) != "api" {
		t.Errorf("delete: %v, %v", del, err)
	}

	var all []*awsxray.SamplingRuleRecord
	err = api.GetSamplingRulesPages(&awsxray.GetSamplingRulesInput{}, func(p *awsxray.GetSamplingRulesOutput, last bool) bool {
		all = append(all, p.SamplingRuleRecords...)
		return true
	})
	if err != nil || len(all) != DefaultMaxRules || aws.StringValue(all[len(all)-1].SamplingRule.RuleName) != "Default" {
		t.Errorf("GetSamplingRules: %d records, %v", len(all), err)
	}

	now := time.Now()
	tg, err := api.GetSamplingTargets(&awsxray.GetSamplingTargetsInput{SamplingStatisticsDocuments: []*awsxray.SamplingStatisticsDocument{
		{RuleName: aws.String("Default"), ClientID: aws.String(clientID("sdk")), RequestCount: aws.Int64(3), SampledCount: aws.Int64(1), BorrowCount: aws.Int64(0), Timestamp: &now},
		{RuleName: aws.String("api"), ClientID: aws.String(clientID("sdk")), RequestCount: aws.Int64(3), SampledCount: aws.Int64(1), BorrowCount: aws.Int64(0), Timestamp: &now},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tg.SamplingTargetDocuments) != 1 || aws.Int64Value(tg.SamplingTargetDocuments[0].ReservoirQuota) != 1 ||
		aws.Int64Value(tg.SamplingTargetDocuments[0].Interval) != 10 || tg.SamplingTargetDocuments[0].ReservoirQuotaTTL.Before(now) {
		t.Errorf("targets %v", tg.SamplingTargetDocuments)
	}
	if len(tg.UnprocessedStatistics) != 1 || aws.StringValue(tg.UnprocessedStatistics[0].ErrorCode) != "400" || aws.StringValue(tg.UnprocessedStatistics[0].RuleName) != "api" {
		t.Errorf("unprocessed %v", tg.UnprocessedStatistics)
	}
	if tg.LastRuleModification == nil || time.Since(*tg.LastRuleModification) > time.Minute {
		t.Errorf("LastRuleModification %v", tg.LastRuleModification)
	}
}

// TestXRaySDKSamplesByServerRules runs the X-Ray SDK's centralized
// strategy against the handler, as it would reach the daemon's TCP proxy:
// it fetches the rules at start (the first ShouldTrace starts its pollers)
// and decides by them; after its first report (about 10 s) it samples by
// the quota the server assigned.
func TestXRaySDKSamplesByServerRules(t *testing.T) {
	ctx := context.Background()
	svc := NewService(openMeta(t), Options{})
	for _, r := range []Rule{
		{RuleName: "never", Priority: 10, ServiceName: "never-svc", ReservoirSize: 0, FixedRate: 0},
		{RuleName: "always", Priority: 20, ServiceName: "always-svc", ReservoirSize: 0, FixedRate: 1},
		{RuleName: "quota", Priority: 30, ServiceName: "quota-svc", ReservoirSize: 5, FixedRate: 0},
	} {
		r.ResourceARN, r.ServiceType, r.Host, r.HTTPMethod, r.URLPath, r.Version = "*", "*", "*", "*", "*", 1
		if _, err := svc.Store().Create(ctx, "acme", r); err != nil {
			t.Fatal(err)
		}
	}
	rec := &recorder{next: svc.Handler(func(*http.Request) (string, error) { return "acme", nil }), counts: map[string]int{}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()

	xray.SetLogger(xraylog.NewDefaultLogger(io.Discard, xraylog.LogLevelError))
	strategy, err := xraysampling.NewCentralizedStrategy()
	if err != nil {
		t.Fatal(err)
	}
	tcpAddr := strings.TrimPrefix(srv.URL, "http://")
	if err := xray.Configure(xray.Config{
		DaemonAddr:       fmt.Sprintf("tcp:%s udp:%s", tcpAddr, udp.LocalAddr()),
		SamplingStrategy: strategy,
	}); err != nil {
		t.Fatal(err)
	}

	decide := func(service string) *xraysampling.Decision {
		return strategy.ShouldTrace(&xraysampling.Request{ServiceName: service, Host: "shop.example.com", Method: "GET", URL: "/cart"})
	}
	// The first decision starts the pollers; until the rules arrive the SDK
	// uses its local fallback, whose decisions name no rule.
	deadline := time.Now().Add(10 * time.Second)
	for d := decide("never-svc"); d.Rule == nil || *d.Rule != "never"; d = decide("never-svc") {
		if time.Now().After(deadline) {
			t.Fatalf("the SDK did not apply the server's rules within 10 s; requests seen: %v", rec.counts)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := rec.count("/GetSamplingRules"); n < 1 {
		t.Fatalf("GetSamplingRules served %d times", n)
	}
	for i := range 200 {
		if d := decide("never-svc"); d.Sample || *d.Rule != "never" {
			t.Fatalf("never-svc decision %d: sample=%v rule=%s", i, d.Sample, *d.Rule)
		}
		if d := decide("always-svc"); !d.Sample || *d.Rule != "always" {
			t.Fatalf("always-svc decision %d: sample=%v rule=%s", i, d.Sample, *d.Rule)
		}
	}
	if d := decide("other-svc"); *d.Rule != "Default" {
		t.Errorf("other-svc decided by %s, want Default", *d.Rule)
	}
	// Before any quota the SDK borrows at most one trace a second.
	if d := decide("quota-svc"); *d.Rule != "quota" {
		t.Fatalf("quota-svc decided by %s", *d.Rule)
	}

	if testing.Short() {
		t.Skip("skipping the SDK's first quota report (about 10 s) in -short mode")
	}
	deadline = time.Now().Add(20 * time.Second)
	for rec.count("/SamplingTargets") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the SDK sent no SamplingTargets within 20 s; requests seen: %v", rec.counts)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rec.mu.Lock()
	body := rec.targets[0]
	rec.mu.Unlock()
	for _, want := range []string{`"RuleName":"quota"`, `"ClientID":"`, `"RequestCount":`, `"Timestamp":`} {
		if !strings.Contains(body, want) {
			t.Errorf("SamplingTargets body %s lacks %s", body, want)
		}
	}
	// With the quota of 5 a second assigned, a burst of 20 gets 5 to 10
	// sampled (10 if it straddles a second); borrowing would allow 1 or 2.
	deadline = time.Now().Add(5 * time.Second)
	for {
		sampled := 0
		for range 20 {
			if decide("quota-svc").Sample {
				sampled++
			}
		}
		if sampled >= 5 && sampled <= 10 {
			break
		}
		if sampled > 10 || time.Now().After(deadline) {
			t.Fatalf("quota-svc burst sampled %d of 20, want 5 to 10 (quota 5/s)", sampled)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
