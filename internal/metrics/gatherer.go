package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// tenantGatherer shows one tenant the self-metrics that concern it: series
// labelled with another tenant are removed, so status pages (TSDB head
// chunks, self_metrics) neither mix tenants' figures nor reveal other
// tenants' names. Series without a tenant label are process-wide and kept.
type tenantGatherer struct {
	g  prometheus.Gatherer
	id string
}

func (t tenantGatherer) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := t.g.Gather()
	out := mfs[:0]
	for _, mf := range mfs {
		kept := mf.Metric[:0]
		for _, m := range mf.Metric {
			if owner, ok := tenantLabel(m); !ok || owner == t.id {
				kept = append(kept, m)
			}
		}
		if len(kept) > 0 {
			mf.Metric = kept
			out = append(out, mf)
		}
	}
	return out, err
}

func tenantLabel(m *dto.Metric) (string, bool) {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == "tenant" {
			return lp.GetValue(), true
		}
	}
	return "", false
}
