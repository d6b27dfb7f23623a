package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/miradorhq/mirador/internal/meta"
	"github.com/miradorhq/mirador/internal/tenant"
)

// Tenant is a row of the tenants table.
type Tenant struct {
	ID        string
	CreatedAt time.Time
}

// Tenants creates and lists tenants in the meta store. It is safe for
// concurrent use.
type Tenants struct {
	db  *sql.DB
	now func() time.Time
}

// NewTenants returns Tenants over store.
func NewTenants(store *meta.Store) *Tenants {
	return &Tenants{db: store.DB(), now: time.Now}
}

// Create adds tenant id. It returns an error wrapping tenant.ErrInvalidID for
// an ID tenant.Validate rejects, and ErrTenantExists if it exists.
func (t *Tenants) Create(ctx context.Context, id string) error {
	if err := tenant.Validate(id); err != nil {
		return err
	}
	res, err := t.db.ExecContext(ctx,
		`INSERT INTO tenants (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
		id, t.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("create tenant %q: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("create tenant %q: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %q", ErrTenantExists, id)
	}
	return nil
}

// List returns every tenant, ordered by ID.
func (t *Tenants) List(ctx context.Context) ([]Tenant, error) {
	rows, err := t.db.QueryContext(ctx, `SELECT id, created_at FROM tenants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	defer rows.Close()
	var out []Tenant
	for rows.Next() {
		var tn Tenant
		var created int64
		if err := rows.Scan(&tn.ID, &created); err != nil {
			return nil, fmt.Errorf("list tenants: %w", err)
		}
		tn.CreatedAt = time.UnixMilli(created)
		out = append(out, tn)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return out, nil
}

// Exists reports whether tenant id exists.
func (t *Tenants) Exists(ctx context.Context, id string) (bool, error) {
	return tenantExists(ctx, t.db, id)
}

func tenantExists(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM tenants WHERE id = $1`, id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("look up tenant %q: %w", id, err)
	}
	return true, nil
}

// unknownTenantError says how to fix a reference to a missing tenant.
func unknownTenantError(id string) error {
	return fmt.Errorf("%w %q: create it with 'mirador tenants create %s'", ErrUnknownTenant, id, id)
}
