package sampling

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// This file holds X-Ray's rest-json request and response shapes and their
// decoders. Request shapes use pointers so that a missing required member
// is told apart from a zero one (FixedRate 0 is valid, absent is not).

type wireRule struct {
	RuleName      *string           `json:"RuleName"`
	RuleARN       *string           `json:"RuleARN"`
	ResourceARN   *string           `json:"ResourceARN"`
	Priority      *int64            `json:"Priority"`
	FixedRate     *float64          `json:"FixedRate"`
	ReservoirSize *int64            `json:"ReservoirSize"`
	ServiceName   *string           `json:"ServiceName"`
	ServiceType   *string           `json:"ServiceType"`
	Host          *string           `json:"Host"`
	HTTPMethod    *string           `json:"HTTPMethod"`
	URLPath       *string           `json:"URLPath"`
	Version       *int64            `json:"Version"`
	Attributes    map[string]string `json:"Attributes"`
}

type wireTag struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value"`
}

type createRuleInput struct {
	SamplingRule *wireRule `json:"SamplingRule"`
	// Tags are accepted for compatibility and not stored.
	Tags []wireTag `json:"Tags"`
}

type wireRuleUpdate struct {
	RuleName      *string           `json:"RuleName"`
	RuleARN       *string           `json:"RuleARN"`
	ResourceARN   *string           `json:"ResourceARN"`
	Priority      *int64            `json:"Priority"`
	FixedRate     *float64          `json:"FixedRate"`
	ReservoirSize *int64            `json:"ReservoirSize"`
	ServiceName   *string           `json:"ServiceName"`
	ServiceType   *string           `json:"ServiceType"`
	Host          *string           `json:"Host"`
	HTTPMethod    *string           `json:"HTTPMethod"`
	URLPath       *string           `json:"URLPath"`
	Attributes    map[string]string `json:"Attributes"`
}

type updateRuleInput struct {
	SamplingRuleUpdate *wireRuleUpdate `json:"SamplingRuleUpdate"`
}

type deleteRuleInput struct {
	RuleName *string `json:"RuleName"`
	RuleARN  *string `json:"RuleARN"`
}

type getRulesInput struct {
	NextToken *string `json:"NextToken"`
}

type wireStatistics struct {
	RuleName     *string       `json:"RuleName"`
	ClientID     *string       `json:"ClientID"`
	RequestCount *int64        `json:"RequestCount"`
	SampledCount *int64        `json:"SampledCount"`
	BorrowCount  *int64        `json:"BorrowCount"`
	Timestamp    *epochSeconds `json:"Timestamp"`
}

type getTargetsInput struct {
	SamplingStatisticsDocuments []*wireStatistics `json:"SamplingStatisticsDocuments"`
}

// Responses.

type wireRecord struct {
	SamplingRule Rule         `json:"SamplingRule"`
	CreatedAt    epochSeconds `json:"CreatedAt"`
	ModifiedAt   epochSeconds `json:"ModifiedAt"`
}

func toWireRecord(r Record) wireRecord {
	return wireRecord{SamplingRule: r.Rule, CreatedAt: epochSeconds(r.CreatedAt), ModifiedAt: epochSeconds(r.ModifiedAt)}
}

type ruleRecordOutput struct {
	SamplingRuleRecord wireRecord `json:"SamplingRuleRecord"`
}

type getRulesOutput struct {
	SamplingRuleRecords []wireRecord `json:"SamplingRuleRecords"`
	NextToken           *string      `json:"NextToken,omitempty"`
}

type wireTarget struct {
	RuleName          string       `json:"RuleName"`
	FixedRate         float64      `json:"FixedRate"`
	ReservoirQuota    int64        `json:"ReservoirQuota"`
	ReservoirQuotaTTL epochSeconds `json:"ReservoirQuotaTTL"`
	Interval          int64        `json:"Interval"`
}

type wireUnprocessed struct {
	RuleName  string `json:"RuleName"`
	ErrorCode string `json:"ErrorCode"`
	Message   string `json:"Message"`
}

type getTargetsOutput struct {
	LastRuleModification    epochSeconds      `json:"LastRuleModification"`
	SamplingTargetDocuments []wireTarget      `json:"SamplingTargetDocuments"`
	UnprocessedStatistics   []wireUnprocessed `json:"UnprocessedStatistics"`
}

func toTargetsOutput(t Targets) getTargetsOutput {
	out := getTargetsOutput{
		LastRuleModification:    epochSeconds(t.LastRuleModification),
		SamplingTargetDocuments: make([]wireTarget, len(t.Documents)),
		UnprocessedStatistics:   make([]wireUnprocessed, len(t.Unprocessed)),
	}
	for i, d := range t.Documents {
		out.SamplingTargetDocuments[i] = wireTarget{
			RuleName: d.RuleName, FixedRate: d.FixedRate, ReservoirQuota: d.ReservoirQuota,
			ReservoirQuotaTTL: epochSeconds(d.ReservoirQuotaTTL), Interval: int64(d.Interval / time.Second),
		}
	}
	for i, u := range t.Unprocessed {
		out.UnprocessedStatistics[i] = wireUnprocessed(u)
	}
	return out
}

// epochSeconds is a rest-json timestamp: a JSON number of seconds since
// the Unix epoch, fractional for sub-second precision. The zero Time is 0.
type epochSeconds time.Time

// MarshalJSON writes milliseconds precision, as AWS does.
func (e epochSeconds) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	if t.IsZero() {
		return []byte("0"), nil
	}
	return strconv.AppendFloat(nil, float64(t.UnixMilli())/1e3, 'f', -1, 64), nil
}

// maxEpochSeconds keeps decoded times within what time.Time and
// UnixMilli represent (year 9999).
const maxEpochSeconds = 253402300799

func (e *epochSeconds) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxEpochSeconds {
		return fmt.Errorf("timestamp %s is not a number of seconds since 1970 (e.g. 1700000000.123)", truncate(string(b), 40))
	}
	sec, frac := math.Modf(f)
	*e = epochSeconds(time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond)))
	return nil
}

// decodeBody unmarshals a request body into v; an empty body is {}. The
// error names the member at fault.
func decodeBody(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := te.Field
			if field == "" {
				field = "request body"
			}
			return invalid(field, "expected %s, got JSON %s", jsonKind(te.Type.Kind().String()), te.Value)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return invalid("request body", "is not valid JSON at byte %d: %v", se.Offset, se)
		}
		return invalid("request body", "%v", err)
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int64", "int":
		return "an integer"
	case "float64":
		return "a number"
	case "string":
		return "a string"
	case "struct", "map":
		return "an object"
	case "slice":
		return "an array"
	}
	return goKind
}

func required(field string) error {
	return invalid(field, "is required")
}

// int32Field converts an integer member that AWS models as a 32-bit int.
func int32Field(field string, v int64) (int, error) {
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, invalid(field, "%d does not fit a 32-bit integer", v)
	}
	return int(v), nil
}

// decodeCreateRule decodes a CreateSamplingRule body into a Rule, checking
// required members; Rule.Validate checks the values.
func decodeCreateRule(body []byte) (Rule, error) {
	var in createRuleInput
	if err := decodeBody(body, &in); err != nil {
		return Rule{}, err
	}
	w := in.SamplingRule
	if w == nil {
		return Rule{}, required("SamplingRule")
	}
	for i, t := range in.Tags {
		if t.Key == nil || *t.Key == "" {
			return Rule{}, invalid(fmt.Sprintf("Tags[%d].Key", i), "is required")
		}
		if t.Value == nil {
			return Rule{}, invalid(fmt.Sprintf("Tags[%d].Value", i), "is required")
		}
	}
	var r Rule
	for _, f := range []struct {
		name string
		src  *string
		dst  *string
	}{
		{"ResourceARN", w.ResourceARN, &r.ResourceARN},
		{"ServiceName", w.ServiceName, &r.ServiceName},
		{"ServiceType", w.ServiceType, &r.ServiceType},
		{"Host", w.Host, &r.Host},
		{"HTTPMethod", w.HTTPMethod, &r.HTTPMethod},
		{"URLPath", w.URLPath, &r.URLPath},
	} {
		if f.src == nil {
			return Rule{}, required("SamplingRule." + f.name)
		}
		*f.dst = *f.src
	}
	if w.RuleName == nil && w.RuleARN == nil {
		return Rule{}, invalid("SamplingRule.RuleName", "is required (or give RuleARN)")
	}
	if w.RuleName != nil {
		r.RuleName = *w.RuleName
	}
	if w.RuleARN != nil {
		r.RuleARN = *w.RuleARN
	}
	if w.FixedRate == nil {
		return Rule{}, required("SamplingRule.FixedRate")
	}
	r.FixedRate = *w.FixedRate
	var err error
	for _, f := range []struct {
		name string
		src  *int64
		dst  *int
	}{
		{"Priority", w.Priority, &r.Priority},
		{"ReservoirSize", w.ReservoirSize, &r.ReservoirSize},
		{"Version", w.Version, &r.Version},
	} {
		if f.src == nil {
			return Rule{}, required("SamplingRule." + f.name)
		}
		if *f.dst, err = int32Field("SamplingRule."+f.name, *f.src); err != nil {
			return Rule{}, err
		}
	}
	if len(w.Attributes) > 0 {
		r.Attributes = w.Attributes
	}
	return r, nil
}

// decodeUpdateRule decodes an UpdateSamplingRule body.
func decodeUpdateRule(body []byte) (RuleUpdate, error) {
	var in updateRuleInput
	if err := decodeBody(body, &in); err != nil {
		return RuleUpdate{}, err
	}
	w := in.SamplingRuleUpdate
	if w == nil {
		return RuleUpdate{}, required("SamplingRuleUpdate")
	}
	u := RuleUpdate{
		RuleName: w.RuleName, RuleARN: w.RuleARN, ResourceARN: w.ResourceARN, FixedRate: w.FixedRate,
		ServiceName: w.ServiceName, ServiceType: w.ServiceType, Host: w.Host, HTTPMethod: w.HTTPMethod,
		URLPath: w.URLPath, Attributes: w.Attributes,
	}
	for _, f := range []struct {
		name string
		src  *int64
		dst  **int
	}{
		{"Priority", w.Priority, &u.Priority},
		{"ReservoirSize", w.ReservoirSize, &u.ReservoirSize},
	} {
		if f.src == nil {
			continue
		}
		v, err := int32Field("SamplingRuleUpdate."+f.name, *f.src)
		if err != nil {
			return RuleUpdate{}, err
		}
		*f.dst = &v
	}
	return u, nil
}

// decodeTargets decodes a GetSamplingTargets body.
func decodeTargets(body []byte) ([]StatisticsDocument, error) {
	var in getTargetsInput
	if err := decodeBody(body, &in); err != nil {
		return nil, err
	}
	if in.SamplingStatisticsDocuments == nil {
		return nil, required("SamplingStatisticsDocuments")
	}
	if n := len(in.SamplingStatisticsDocuments); n > MaxStatisticsDocuments {
		return nil, invalid("SamplingStatisticsDocuments", "has %d documents; send at most %d per call", n, MaxStatisticsDocuments)
	}
	docs := make([]StatisticsDocument, len(in.SamplingStatisticsDocuments))
	for i, w := range in.SamplingStatisticsDocuments {
		at := func(m string) string { return fmt.Sprintf("SamplingStatisticsDocuments[%d].%s", i, m) }
		switch {
		case w == nil:
			return nil, invalid(fmt.Sprintf("SamplingStatisticsDocuments[%d]", i), "is null; send an object")
		case w.RuleName == nil:
			return nil, required(at("RuleName"))
		case w.ClientID == nil:
			return nil, required(at("ClientID"))
		case w.RequestCount == nil:
			return nil, required(at("RequestCount"))
		case w.SampledCount == nil:
			return nil, required(at("SampledCount"))
		case w.Timestamp == nil:
			return nil, required(at("Timestamp"))
		}
		d := StatisticsDocument{
			RuleName: *w.RuleName, ClientID: *w.ClientID, RequestCount: *w.RequestCount,
			SampledCount: *w.SampledCount, Timestamp: time.Time(*w.Timestamp),
		}
		if w.BorrowCount != nil {
			d.BorrowCount = *w.BorrowCount
		}
		docs[i] = d
	}
	return docs, nil
}
