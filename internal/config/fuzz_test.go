package config

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzConfigFile(f *testing.F) {
	f.Add([]byte("http_addr: 127.0.0.1:0\nmetrics:\n  retention_time: 3d\n"))
	f.Add([]byte("tenant_limits:\n  acme:\n    max_series: 10\n"))
	f.Add([]byte("metrics:\n  scrape_configs:\n    - job_name: x\n      static_configs: [{targets: ['a:1']}]\n"))
	f.Add([]byte("limits: [1, 2]\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text []byte) {
		p := filepath.Join(dir, "fuzz.yml")
		if err := os.WriteFile(p, text, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load([]string{"--config", p}, nil, nil)
		if err == nil && cfg.Validate() != nil {
			t.Fatalf("Load accepted a configuration that does not validate: %v", cfg.Validate())
		}
	})
}
