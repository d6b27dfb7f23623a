package server

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/miradorhq/mirador/internal/alarms"
	"github.com/miradorhq/mirador/internal/logs"
	"github.com/miradorhq/mirador/internal/metrics"
	"github.com/miradorhq/mirador/internal/notify"
	"github.com/miradorhq/mirador/internal/notify/channel"
	"github.com/miradorhq/mirador/internal/notify/safeurl"
)

// openAlarms builds the notifier and the alarm evaluator and starts both;
// stopBackground stops them.
func (s *Server) openAlarms(ctx context.Context, reg prometheus.Registerer) error {
	cfg := s.cfg
	public := cfg.PublicURL
	if public == "" {
		public = "http://" + s.selfScrapeAddr()
	}
	policy := safeurl.Policy{AllowPrivate: cfg.Notify.AllowPrivateTargets}
	client := channel.NewHTTPClient(policy, cfg.Notify.SendTimeout.Std())
	senders := map[string]channel.Sender{
		notify.ProtocolWebhook:   channel.Webhook{Client: client},
		notify.ProtocolSlack:     channel.Slack{Client: client},
		notify.ProtocolPagerDuty: channel.PagerDuty{Client: client, URL: cfg.Notify.PagerDutyURL},
		notify.ProtocolLog:       channel.LogSink{Logs: s.logs},
	}
	if smtp := cfg.Notify.SMTP; smtp.Addr != "" {
		senders[notify.ProtocolEmail] = channel.Email{Config: channel.SMTPConfig{
			Addr: smtp.Addr, From: smtp.From, Username: smtp.Username, Password: smtp.Password,
			TLS: smtp.TLS, Timeout: cfg.Notify.SendTimeout.Std(),
		}}
	}
	s.notify = notify.New(notify.Options{
		DB: s.meta.DB(), Senders: senders, URLPolicy: policy,
		ValidateLogGroup: logs.ValidateGroupName, PublicURL: public,
		Workers: cfg.Notify.Workers, SendTimeout: cfg.Notify.SendTimeout.Std(),
		Logger: s.logger.With("component", "notify"), Registerer: reg,
	})
	s.alarms = alarms.New(alarms.Options{
		DB: s.meta.DB(), Notify: s.notify, Metrics: s.metrics, History: s.events,
		PublicURL: public, Workers: cfg.Alarms.Workers,
		Logger: s.logger.With("component", "alarms"), Registerer: reg,
	})
	if err := s.alarms.Load(ctx); err != nil {
		return err
	}
	bg, cancel := context.WithCancel(context.Background())
	s.stopBackground = cancel
	s.bg.Add(2)
	go func() { defer s.bg.Done(); s.notify.Run(bg) }()
	go func() {
		defer s.bg.Done()
		if err := s.alarms.Run(bg); err != nil {
			s.logger.Error("alarm evaluator stopped", "err", err)
		}
	}()
	return nil
}

// publishAlerts publishes alert changes of the rule files, one message per
// topic: the alert's "topic" label, else metrics.rules_topic.
func (s *Server) publishAlerts(ctx context.Context, tenant string, alerts []metrics.Alert) error {
	if s.notify == nil {
		return errors.New("notifications are not running yet")
	}
	byTopic := map[string][]metrics.Alert{}
	for _, a := range alerts {
		topic := a.Labels["topic"]
		if topic == "" {
			topic = s.cfg.Metrics.RulesTopic
		}
		byTopic[topic] = append(byTopic[topic], a)
	}
	var errs []error
	for topic, as := range byTopic {
		msg := alarms.PrometheusAlertsMessage(topic, "http://"+s.selfScrapeAddr()+"/prometheus", as)
		if _, _, err := s.notify.Publish(ctx, tenant, topic, msg); err != nil {
			s.logger.Warn("rule alerts not published, retried at the next send; create the topic or set the alert's topic label", "tenant", tenant, "topic", topic, "alerts", len(as), "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
