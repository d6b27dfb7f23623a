package metricfilter

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Store keeps metric filters in the meta store, with a per-tenant cache of
// compiled filters so that ingest never reads the database. It is safe for
// concurrent use.
type Store struct {
	db  *sql.DB
	now func() time.Time

	mu     sync.RWMutex
	tenant map[string]map[string][]*compiled // tenant → log group → filters
}

// NewStore returns a Store over the meta store's database.
func NewStore(db *sql.DB) *Store {
	return &Store{db: db, now: time.Now, tenant: map[string]map[string][]*compiled{}}
}

// Put creates or replaces a filter.
func (s *Store) Put(ctx context.Context, tenant string, f Filter) error {
	if _, err := compile(f); err != nil {
		return err
	}
	if f.LogGroup == "" {
		return fmt.Errorf("%w: logGroupName: required", ErrInvalid)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM metric_filters WHERE tenant_id = $1 AND log_group = $2 AND name <> $3`, tenant, f.LogGroup, f.Name).Scan(&n); err != nil {
		return err
	}
	if n >= MaxFiltersPerGroup {
		return fmt.Errorf("%w: log group %s has %d metric filters, the most allowed", ErrInvalid, f.LogGroup, MaxFiltersPerGroup)
	}
	t, _ := json.Marshal(f.Transformations[0])
	_, err := s.db.ExecContext(ctx, `INSERT INTO metric_filters (tenant_id, log_group, name, pattern, transformation, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant_id, log_group, name) DO UPDATE SET pattern = $4, transformation = $5`,
		tenant, f.LogGroup, f.Name, f.Pattern, string(t), s.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("put metric filter %s: %w", f.Name, err)
	}
	s.invalidate(tenant)
	return nil
}

// Delete deletes a filter.
func (s *Store) Delete(ctx context.Context, tenant, group, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM metric_filters WHERE tenant_id = $1 AND log_group = $2 AND name = $3`, tenant, group, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s in log group %s", ErrNotFound, name, group)
	}
	s.invalidate(tenant)
	return nil
}

// List returns a tenant's filters, of one log group or (group empty) all,
// by group and name.
func (s *Store) List(ctx context.Context, tenant, group string) ([]Filter, error) {
	q, args := `SELECT log_group, name, pattern, transformation FROM metric_filters WHERE tenant_id = $1`, []any{tenant}
	if group != "" {
		q, args = q+` AND log_group = $2`, append(args, group)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY log_group, name`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Filter{}
	for rows.Next() {
		var f Filter
		var t string
		if err := rows.Scan(&f.LogGroup, &f.Name, &f.Pattern, &t); err != nil {
			return nil, err
		}
		var tr Transformation
		if err := json.Unmarshal([]byte(t), &tr); err != nil {
			return nil, fmt.Errorf("metric filter %s: %w", f.Name, err)
		}
		f.Transformations = []Transformation{tr}
		out = append(out, f)
	}
	return out, rows.Err()
}

func (s *Store) invalidate(tenant string) {
	s.mu.Lock()
	delete(s.tenant, tenant)
	s.mu.Unlock()
}

// filters returns the compiled filters of a tenant's log group, loading
// the tenant's filters on first use.
func (s *Store) filters(tenant, group string) ([]*compiled, error) {
	s.mu.RLock()
	byGroup, ok := s.tenant[tenant]
	s.mu.RUnlock()
	if !ok {
		fs, err := s.List(context.Background(), tenant, "")
		if err != nil {
			return nil, err
		}
		byGroup = map[string][]*compiled{}
		for _, f := range fs {
			c, err := compile(f)
			if err != nil {
				continue // stored valid; a newer parser refusing it must not break ingest
			}
			byGroup[f.LogGroup] = append(byGroup[f.LogGroup], c)
		}
		for _, cs := range byGroup {
			sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
		}
		s.mu.Lock()
		s.tenant[tenant] = byGroup
		s.mu.Unlock()
	}
	return byGroup[group], nil
}

// IsNotFound reports whether err is ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
