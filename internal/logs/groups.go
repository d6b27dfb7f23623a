package logs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miradorhq/mirador/internal/meta"
)

// Errors of the log group registry; callers test them with errors.Is.
var (
	ErrGroupNotFound    = errors.New("log group not found")
	ErrGroupExists      = errors.New("log group already exists")
	ErrInvalidGroupName = errors.New("invalid log group name")
	ErrInvalidRetention = errors.New("invalid retention")
	ErrTooManyGroups    = errors.New("too many log groups")
)

// RetentionDays are the values CloudWatch Logs accepts for retentionInDays.
var RetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Group is a log group.
type Group struct {
	Name          string
	RetentionDays int // 0: never expire
	CreatedAt     time.Time
}

// Retention is how long the group's records are kept; 0 means forever.
func (g Group) Retention() time.Duration {
	return time.Duration(g.RetentionDays) * 24 * time.Hour
}

// ValidateGroupName checks CloudWatch's rules: 1 to 512 characters of
// letters, digits and . - _ / #.
func ValidateGroupName(name string) error {
	if name == "" || len(name) > 512 {
		return fmt.Errorf("%w: %q must have 1 to 512 characters", ErrInvalidGroupName, truncate(name, 64))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._-/#", c) >= 0) {
			return fmt.Errorf("%w: %q has %q at byte %d; use letters, digits and . - _ / #", ErrInvalidGroupName, truncate(name, 64), string(rune(c)), i)
		}
	}
	return nil
}

// ValidateRetention checks days against RetentionDays; 0 means never expire.
func ValidateRetention(days int) error {
	if days == 0 || slices.Contains(RetentionDays, days) {
		return nil
	}
	return fmt.Errorf("%w: %d days is not a CloudWatch retention; use one of %s, or null to never expire", ErrInvalidRetention, days, joinInts(RetentionDays))
}

// Groups is the registry of log groups, kept in the meta store and cached
// in memory so that ingest checks a group without a query. It is safe for
// concurrent use.
type Groups struct {
	db        *sql.DB
	now       func() time.Time
	maxGroups func(tenant string) int // 0: unlimited

	mu      sync.Mutex
	tenants map[string]map[string]Group // loaded tenants only
}

// NewGroups returns the registry over store. maxGroups returns a tenant's
// limit on the number of groups (0 for none); nil means unlimited.
func NewGroups(store *meta.Store, maxGroups func(tenant string) int) *Groups {
	if maxGroups == nil {
		maxGroups = func(string) int { return 0 }
	}
	return &Groups{db: store.DB(), now: time.Now, maxGroups: maxGroups, tenants: map[string]map[string]Group{}}
}

// load returns the tenant's groups, reading them on first use. g.mu is held.
func (g *Groups) load(ctx context.Context, tenant string) (map[string]Group, error) {
	if m, ok := g.tenants[tenant]; ok {
		return m, nil
	}
	rows, err := g.db.QueryContext(ctx, `SELECT name, retention_days, created_at FROM log_groups WHERE tenant_id = $1`, tenant)
	if err != nil {
		return nil, fmt.Errorf("load log groups of tenant %s: %w", tenant, err)
	}
	defer rows.Close()
	m := map[string]Group{}
	for rows.Next() {
		var (
			gr      Group
			days    sql.NullInt64
			created int64
		)
		if err := rows.Scan(&gr.Name, &days, &created); err != nil {
			return nil, fmt.Errorf("load log groups of tenant %s: %w", tenant, err)
		}
		gr.RetentionDays, gr.CreatedAt = int(days.Int64), time.UnixMilli(created)
		m[gr.Name] = gr
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load log groups of tenant %s: %w", tenant, err)
	}
	g.tenants[tenant] = m
	return m, nil
}

// Ensure creates the named groups that do not exist yet, as a first write
// to them does. It is cheap when they all exist.
func (g *Groups) Ensure(ctx context.Context, tenant string, names []string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	m, err := g.load(ctx, tenant)
	if err != nil {
		return err
	}
	for _, name := range names {
		if _, ok := m[name]; ok {
			continue
		}
		if _, err := g.createLocked(ctx, tenant, m, name, 0); err != nil {
			return err
		}
	}
	return nil
}

// Create makes a group with the given retention (0: never expire).
func (g *Groups) Create(ctx context.Context, tenant, name string, retentionDays int) (Group, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	m, err := g.load(ctx, tenant)
	if err != nil {
		return Group{}, err
	}
	if _, ok := m[name]; ok {
		return Group{}, fmt.Errorf("%w: %s", ErrGroupExists, name)
	}
	return g.createLocked(ctx, tenant, m, name, retentionDays)
}

func (g *Groups) createLocked(ctx context.Context, tenant string, m map[string]Group, name string, days int) (Group, error) {
	if err := ValidateGroupName(name); err != nil {
		return Group{}, err
	}
	if err := ValidateRetention(days); err != nil {
		return Group{}, err
	}
	if limit := g.maxGroups(tenant); limit > 0 && len(m) >= limit {
		return Group{}, fmt.Errorf("%w: tenant %s has %d log groups, its limits.max_log_groups; delete unused groups or raise the limit", ErrTooManyGroups, tenant, len(m))
	}
	gr := Group{Name: name, RetentionDays: days, CreatedAt: time.UnixMilli(g.now().UnixMilli())}
	var retention any
	if days > 0 {
		retention = days
	}
	if _, err := g.db.ExecContext(ctx,
		`INSERT INTO log_groups (tenant_id, name, retention_days, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, name) DO NOTHING`,
		tenant, name, retention, gr.CreatedAt.UnixMilli()); err != nil {
		return Group{}, fmt.Errorf("create log group %s: %w", name, err)
	}
	m[name] = gr
	return gr, nil
}

// Get returns one group.
func (g *Groups) Get(ctx context.Context, tenant, name string) (Group, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	m, err := g.load(ctx, tenant)
	if err != nil {
		return Group{}, err
	}
	gr, ok := m[name]
	if !ok {
		return Group{}, fmt.Errorf("%w: %s", ErrGroupNotFound, name)
	}
	return gr, nil
}

// List returns the tenant's groups whose name starts with prefix, by name.
func (g *Groups) List(ctx context.Context, tenant, prefix string) ([]Group, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	m, err := g.load(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]Group, 0, len(m))
	for name, gr := range m {
		if strings.HasPrefix(name, prefix) {
			out = append(out, gr)
		}
	}
	slices.SortFunc(out, func(a, b Group) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// SetRetention changes a group's retention (0: never expire).
func (g *Groups) SetRetention(ctx context.Context, tenant, name string, days int) (Group, error) {
	if err := ValidateRetention(days); err != nil {
		return Group{}, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	m, err := g.load(ctx, tenant)
	if err != nil {
		return Group{}, err
	}
	gr, ok := m[name]
	if !ok {
		return Group{}, fmt.Errorf("%w: %s", ErrGroupNotFound, name)
	}
	var retention any
	if days > 0 {
		retention = days
	}
	if _, err := g.db.ExecContext(ctx, `UPDATE log_groups SET retention_days = $1 WHERE tenant_id = $2 AND name = $3`, retention, tenant, name); err != nil {
		return Group{}, fmt.Errorf("set retention of log group %s: %w", name, err)
	}
	gr.RetentionDays = days
	m[name] = gr
	return gr, nil
}

// Delete removes a group from the registry.
func (g *Groups) Delete(ctx context.Context, tenant, name string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	m, err := g.load(ctx, tenant)
	if err != nil {
		return err
	}
	if _, ok := m[name]; !ok {
		return fmt.Errorf("%w: %s", ErrGroupNotFound, name)
	}
	if _, err := g.db.ExecContext(ctx, `DELETE FROM log_groups WHERE tenant_id = $1 AND name = $2`, tenant, name); err != nil {
		return fmt.Errorf("delete log group %s: %w", name, err)
	}
	delete(m, name)
	return nil
}

// Retention returns how long the group's records are kept, for the event
// store's retention pass: 0 (forever) for groups it does not know.
func (g *Groups) Retention(tenant, name string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	m, err := g.load(context.Background(), tenant)
	if err != nil {
		return 0 // keep data when unsure
	}
	return m[name].Retention()
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
