package metrics

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/scrape"
)

// SelfScrapeJob is the job name under which Mirador scrapes itself.
const SelfScrapeJob = "mirador"

// scraper runs Prometheus's discovery and scrape managers for the scrape
// tenant.
type scraper struct {
	config    *promconfig.Config
	manager   *scrape.Manager
	discovery *discovery.Manager
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	stopOnce  sync.Once
}

func (e *Engine) startScrape() error {
	cfg := promconfig.DefaultConfig
	if e.opts.Prometheus != nil {
		cfg = *e.opts.Prometheus
	}
	cfg.ScrapeConfigs = append([]*promconfig.ScrapeConfig(nil), cfg.ScrapeConfigs...)
	if self, err := e.selfScrapeConfig(cfg.GlobalConfig); err != nil {
		return err
	} else if self != nil {
		cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, self)
	}
	if len(cfg.ScrapeConfigs) == 0 {
		return nil
	}
	scfgs, err := cfg.GetScrapeConfigs()
	if err != nil {
		return fmt.Errorf("scrape configs: %w", err)
	}

	t, err := e.tenant(e.opts.ScrapeTenant)
	if err != nil {
		return err
	}
	sdMetrics, err := discovery.CreateAndRegisterSDMetrics(e.opts.Registerer)
	if err != nil {
		return fmt.Errorf("register discovery metrics: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &scraper{config: &cfg, cancel: cancel}
	s.discovery = discovery.NewManager(ctx, e.logger.With("component", "discovery"), e.opts.Registerer, sdMetrics, discovery.Name("scrape"))
	if s.discovery == nil {
		cancel()
		return fmt.Errorf("start service discovery")
	}
	s.manager, err = scrape.NewManager(&scrape.Options{
		DiscoveryReloadInterval:  model.Duration(5 * time.Second),
		DiscoveryReloadOnStartup: true,
	}, e.logger.With("component", "scrape"), nil, nil, t.db, e.opts.Registerer)
	if err != nil {
		cancel()
		return fmt.Errorf("start scrape manager: %w", err)
	}
	if err := s.manager.ApplyConfig(&cfg); err != nil {
		cancel()
		return fmt.Errorf("apply scrape configs: %w", err)
	}
	sd := make(map[string]discovery.Configs, len(scfgs))
	for _, sc := range scfgs {
		sd[sc.JobName] = sc.ServiceDiscoveryConfigs
	}
	if err := s.discovery.ApplyConfig(sd); err != nil {
		cancel()
		return fmt.Errorf("apply service discovery configs: %w", err)
	}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.discovery.Run(); err != nil && !errors.Is(err, context.Canceled) {
			e.logger.Error("service discovery stopped", "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		if err := s.manager.Run(s.discovery.SyncCh()); err != nil {
			e.logger.Error("scrape manager stopped", "err", err)
		}
	}()
	e.scrape = s
	return nil
}

// selfScrapeConfig returns the "mirador" job scraping our own /metrics,
// unless disabled or the user configured a job of that name.
func (e *Engine) selfScrapeConfig(global promconfig.GlobalConfig) (*promconfig.ScrapeConfig, error) {
	if e.opts.SelfScrapeAddr == "" || e.opts.SelfScrapeInterval <= 0 {
		return nil, nil
	}
	if e.opts.Prometheus != nil {
		for _, sc := range e.opts.Prometheus.ScrapeConfigs {
			if sc.JobName == SelfScrapeJob {
				return nil, nil
			}
		}
	}
	sc := promconfig.DefaultScrapeConfig
	sc.JobName = SelfScrapeJob
	sc.ScrapeInterval = model.Duration(e.opts.SelfScrapeInterval)
	sc.ScrapeTimeout = model.Duration(min(e.opts.SelfScrapeInterval, 10*time.Second))
	sc.ServiceDiscoveryConfigs = discovery.Configs{discovery.StaticConfig{{
		Targets: []model.LabelSet{{model.AddressLabel: model.LabelValue(e.opts.SelfScrapeAddr)}},
		Source:  SelfScrapeJob,
	}}}
	if err := sc.Validate(global); err != nil {
		return nil, fmt.Errorf("self-scrape config: %w", err)
	}
	return &sc, nil
}

func (s *scraper) stop() {
	s.stopOnce.Do(func() {
		s.manager.Stop()
		s.cancel()
		s.wg.Wait()
	})
}
