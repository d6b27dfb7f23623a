package metrics

import (
	"context"
	"errors"
	"fmt"
	"strings"

	promconfig "github.com/prometheus/prometheus/config"
	otlptranslator "github.com/prometheus/prometheus/storage/remote/otlptranslator/prometheusremotewrite"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// OTLPResult reports what became of an OTLP metrics export.
type OTLPResult struct {
	// Rejected counts what was not stored, in Prometheus samples (a
	// histogram point is several), capped at the export's data points.
	Rejected int64
	// Message explains the rejections and translation warnings; empty when
	// everything was stored.
	Message string
}

// ConsumeOTLP translates OTLP metrics with Prometheus's own translator
// (metric names and units, resource attributes to target_info, histograms
// and exponential histograms to native histograms) and stores them for the
// tenant carried by ctx. Points that cannot be stored are skipped and
// reported in the result; the error is non-nil only when nothing was stored:
// a *RateLimitError, or a storage failure.
func (e *Engine) ConsumeOTLP(ctx context.Context, md pmetric.Metrics) (OTLPResult, error) {
	t, err := e.tenantOf(ctx)
	if err != nil {
		return OTLPResult{}, err
	}
	points := md.DataPointCount()
	if err := t.admit(points); err != nil {
		var rateErr *RateLimitError
		if errors.As(err, &rateErr) {
			e.rejected.WithLabelValues(t.id, "rate_limited").Add(float64(points))
		}
		return OTLPResult{}, err
	}

	a := t.ingestAppender(ctx)
	conv := e.converters.Get().(*otlptranslator.PrometheusConverter)
	conv.Reset(a)
	annots, convErr := conv.FromMetrics(ctx, md, e.otlpSettings())
	conv.Reset(nil)
	e.converters.Put(conv)
	if err := ctx.Err(); err != nil {
		_ = a.Rollback()
		return OTLPResult{}, err
	}
	if err := a.Commit(); err != nil {
		return OTLPResult{}, fmt.Errorf("commit samples: %w", err)
	}
	e.record(t, "otlp", a)

	var msgs []string
	rejected := int64(a.rejected.total)
	if s := a.rejected.summary(a.stored()); s != "" {
		msgs = append(msgs, s)
	}
	if convErr != nil {
		// The translator refuses whole metrics (delta temporality, invalid
		// type); their points were not stored.
		rejected += int64(unconvertiblePoints(md))
		msgs = append(msgs, strings.ReplaceAll(convErr.Error(), "\n", "; ")+
			" (delta temporality is not stored: configure the exporter for cumulative temporality, e.g. OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=cumulative)")
	}
	if warnings, _ := annots.AsStrings("", 10, 0); len(warnings) > 0 {
		msgs = append(msgs, "warnings: "+strings.Join(warnings, "; "))
	}
	return OTLPResult{Rejected: min(rejected, int64(points)), Message: strings.Join(msgs, "; ")}, nil
}

func (e *Engine) otlpSettings() otlptranslator.Settings {
	cfg := promconfig.DefaultOTLPConfig
	if e.opts.Prometheus != nil {
		cfg = e.opts.Prometheus.OTLPConfig
	}
	return otlptranslator.Settings{
		AddMetricSuffixes:                    cfg.TranslationStrategy.ShouldAddSuffixes(),
		AllowUTF8:                            !cfg.TranslationStrategy.ShouldEscape(),
		PromoteResourceAttributes:            otlptranslator.NewPromoteResourceAttributes(cfg),
		KeepIdentifyingResourceAttributes:    cfg.KeepIdentifyingResourceAttributes,
		ConvertHistogramsToNHCB:              cfg.ConvertHistogramsToNHCB,
		PromoteScopeMetadata:                 cfg.PromoteScopeMetadata,
		LookbackDelta:                        e.opts.LookbackDelta,
		LabelNameUnderscoreSanitization:      cfg.LabelNameUnderscoreSanitization,
		LabelNamePreserveMultipleUnderscores: cfg.LabelNamePreserveMultipleUnderscores,
	}
}

// unconvertiblePoints counts the points of metrics the translator refuses
// outright: sums and histograms with delta or unspecified temporality.
func unconvertiblePoints(md pmetric.Metrics) int {
	n := 0
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		sms := rms.At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				switch m.Type() {
				case pmetric.MetricTypeSum:
					if m.Sum().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
						n += m.Sum().DataPoints().Len()
					}
				case pmetric.MetricTypeHistogram:
					if m.Histogram().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
						n += m.Histogram().DataPoints().Len()
					}
				case pmetric.MetricTypeExponentialHistogram:
					if m.ExponentialHistogram().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
						n += m.ExponentialHistogram().DataPoints().Len()
					}
				case pmetric.MetricTypeEmpty:
					n++
				}
			}
		}
	}
	return n
}
