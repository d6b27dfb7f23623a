package metricfilter

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miradorhq/mirador/internal/meta"
)

// Store keeps metric filters in the meta store (table metric_filters) and
// a per-tenant cache of compiled filters, which every write of the tenant
// drops, so that ingest reads the database once per tenant and write, not
// per batch. It is safe for concurrent use.
type Store struct {
	db     *sql.DB
	now    func() time.Time
	logger *slog.Logger

	mu      sync.RWMutex
	tenants map[string]tenantFilters
	gen     map[string]uint64 // per tenant, bumped by every write
}

// tenantFilters are a tenant's compiled filters by log group, each group's
// by name. Never modified once cached.
type tenantFilters map[string][]*compiled

// NewStore returns a Store over the meta store's database. logger (may be
// nil) hears of stored filters this version no longer accepts.
func NewStore(db *sql.DB, logger *slog.Logger) *Store {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Store{db: db, now: time.Now, logger: logger, tenants: map[string]tenantFilters{}, gen: map[string]uint64{}}
}

// Put creates or replaces (by log group and name) a filter of the tenant.
// It fails with ErrInvalid naming the field to fix, or with ErrLimit when
// the group has MaxFiltersPerGroup others. A replaced filter keeps its
// creation time.
func (s *Store) Put(ctx context.Context, tenant string, f Filter) error {
	if _, err := compile(f); err != nil {
		return err
	}
	t, err := json.Marshal(f.Transformations[0])
	if err != nil {
		return fmt.Errorf("put metric filter %s: %w", f.Name, err)
	}
	err = meta.InTx(ctx, s.db, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM metric_filters WHERE tenant_id = $1 AND log_group = $2 AND name <> $3`,
			tenant, f.LogGroup, f.Name).Scan(&n); err != nil {
			return err
		}
		if n >= MaxFiltersPerGroup {
			return fmt.Errorf("%w: log group %s has %d metric filters, the most it may have; delete one first", ErrLimit, f.LogGroup, n)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO metric_filters (tenant_id, log_group, name, pattern, transformation, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (tenant_id, log_group, name) DO UPDATE SET pattern = $4, transformation = $5`,
			tenant, f.LogGroup, f.Name, f.Pattern, string(t), s.now().UnixMilli())
		return err
	})
	s.invalidate(tenant) // also on failure: a commit error may hide a commit
	if err != nil && !errors.Is(err, ErrLimit) {
		return fmt.Errorf("put metric filter %s of log group %s: %w", f.Name, f.LogGroup, err)
	}
	return err
}

// Get returns one filter, or ErrNotFound.
func (s *Store) Get(ctx context.Context, tenant, group, name string) (Filter, error) {
	fs, err := s.list(ctx, ` AND log_group = $2 AND name = $3`, tenant, group, name)
	if err != nil {
		return Filter{}, err
	}
	if len(fs) == 0 {
		return Filter{}, fmt.Errorf("%w: %s in log group %s", ErrNotFound, name, group)
	}
	return fs[0], nil
}

// List returns a tenant's filters of one log group, or of all groups when
// group is empty, ordered by group and name.
func (s *Store) List(ctx context.Context, tenant, group string) ([]Filter, error) {
	if group == "" {
		return s.list(ctx, "", tenant)
	}
	return s.list(ctx, ` AND log_group = $2`, tenant, group)
}

func (s *Store) list(ctx context.Context, where string, args ...any) ([]Filter, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT log_group, name, pattern, transformation, created_at
		FROM metric_filters WHERE tenant_id = $1`+where+` ORDER BY log_group, name`, args...)
	if err != nil {
		return nil, fmt.Errorf("list metric filters: %w", err)
	}
	defer rows.Close()
	out := []Filter{}
	for rows.Next() {
		var (
			f Filter
			t string
		)
		if err := rows.Scan(&f.LogGroup, &f.Name, &f.Pattern, &t, &f.CreationTime); err != nil {
			return nil, fmt.Errorf("list metric filters: %w", err)
		}
		var tr Transformation
		if err := json.Unmarshal([]byte(t), &tr); err != nil {
			return nil, fmt.Errorf("metric filter %s of log group %s: transformation: %w", f.Name, f.LogGroup, err)
		}
		f.Transformations = []Transformation{tr}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list metric filters: %w", err)
	}
	return out, nil
}

// Delete deletes a filter, or fails with ErrNotFound.
func (s *Store) Delete(ctx context.Context, tenant, group, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM metric_filters WHERE tenant_id = $1 AND log_group = $2 AND name = $3`, tenant, group, name)
	s.invalidate(tenant)
	if err != nil {
		return fmt.Errorf("delete metric filter %s of log group %s: %w", name, group, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s in log group %s", ErrNotFound, name, group)
	}
	return nil
}

// DeleteGroup deletes every filter of a log group, as deleting the group
// does in CloudWatch.
func (s *Store) DeleteGroup(ctx context.Context, tenant, group string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM metric_filters WHERE tenant_id = $1 AND log_group = $2`, tenant, group)
	s.invalidate(tenant)
	if err != nil {
		return fmt.Errorf("delete metric filters of log group %s: %w", group, err)
	}
	return nil
}

func (s *Store) invalidate(tenant string) {
	s.mu.Lock()
	delete(s.tenants, tenant)
	s.gen[tenant]++
	s.mu.Unlock()
}

// filters returns the compiled filters of a tenant's log group, by name,
// loading the tenant's filters on first use after a write. The slice is
// shared: callers must not modify it.
func (s *Store) filters(ctx context.Context, tenant, group string) ([]*compiled, error) {
	s.mu.RLock()
	byGroup, ok := s.tenants[tenant]
	gen := s.gen[tenant]
	s.mu.RUnlock()
	if ok {
		return byGroup[group], nil
	}
	fs, err := s.List(ctx, tenant, "")
	if err != nil {
		return nil, err
	}
	byGroup = tenantFilters{}
	for _, f := range fs {
		c, err := compile(f)
		if err != nil {
			// Stored valid; a stricter version must not break ingest.
			s.logger.Warn("metric filter skipped: no longer valid", "tenant", tenant, "group", f.LogGroup, "filter", f.Name, "err", err)
			continue
		}
		byGroup[f.LogGroup] = append(byGroup[f.LogGroup], c)
	}
	for _, cs := range byGroup {
		slices.SortFunc(cs, func(a, b *compiled) int { return strings.Compare(a.Name, b.Name) })
	}
	s.mu.Lock()
	if s.gen[tenant] == gen { // no write since the read began: the read is current
		s.tenants[tenant] = byGroup
	}
	s.mu.Unlock()
	return byGroup[group], nil
}
