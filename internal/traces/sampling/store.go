package sampling

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/miradorhq/mirador/internal/meta"
)

// Record is a rule with its timestamps, X-Ray's SamplingRuleRecord.
type Record struct {
	Rule       Rule      `json:"SamplingRule"`
	CreatedAt  time.Time `json:"CreatedAt"`
	ModifiedAt time.Time `json:"ModifiedAt"`
}

// Store keeps each tenant's sampling rules in the meta store (tables
// sampling_rules and sampling_rule_changes). It holds no cache, so several
// processes over one meta store agree. It is safe for concurrent use.
//
// The Default rule exists for every tenant without a row; updating it
// stores one. It cannot be created or deleted.
type Store struct {
	db   *sql.DB
	opts Options
}

// NewStore returns the rule store over db. Only opts.Region, AccountID,
// MaxRules and Now matter here.
func NewStore(db *meta.Store, opts Options) *Store {
	return &Store{db: db.DB(), opts: opts.withDefaults()}
}

// RuleARN returns the ARN of the tenant's rule name:
// arn:aws:xray:<Region>:<AccountID>:sampling-rule/<name>.
func (s *Store) RuleARN(name string) string {
	return ruleARN(s.opts.Region, s.opts.AccountID, name)
}

// ResolveName returns the rule that name and arn identify, as X-Ray's
// "RuleName or RuleARN": either may be empty, and when both are given
// they must name the same rule.
func (s *Store) ResolveName(name, arn string) (string, error) {
	switch {
	case name == "" && arn == "":
		return "", invalid("RuleName", "is missing; give RuleName or RuleARN")
	case arn == "":
		return name, nil
	}
	fromARN, err := nameFromARN(s.opts.Region, s.opts.AccountID, arn)
	if err != nil {
		return "", err
	}
	if name != "" && name != fromARN {
		return "", invalid("RuleARN", "%q names rule %q but RuleName is %q; give one of them", truncate(arn, 80), truncate(fromARN, 40), truncate(name, 40))
	}
	return fromARN, nil
}

// querier is what reads need of *sql.DB and *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// List returns the tenant's rules, Default included, in evaluation order
// (Priority, then RuleName).
func (s *Store) List(ctx context.Context, tenant string) ([]Record, error) {
	recs, err := s.list(ctx, s.db, tenant)
	if err != nil {
		return nil, fmt.Errorf("list sampling rules of tenant %s: %w", tenant, err)
	}
	return recs, nil
}

func (s *Store) list(ctx context.Context, q querier, tenant string) ([]Record, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT name, rule, created_at, modified_at FROM sampling_rules WHERE tenant_id = $1 ORDER BY priority, name`, tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var recs []Record
	hasDefault := false
	for rows.Next() {
		rec, err := s.scan(rows)
		if err != nil {
			return nil, err
		}
		hasDefault = hasDefault || rec.Rule.RuleName == DefaultRuleName
		recs = append(recs, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !hasDefault {
		def, err := s.builtinDefault(ctx, q, tenant)
		if err != nil {
			return nil, err
		}
		recs = append(recs, def) // priority 10000 sorts last
	}
	return recs, nil
}

// Rules returns the rules of List without their timestamps.
func (s *Store) Rules(ctx context.Context, tenant string) ([]Rule, error) {
	recs, err := s.List(ctx, tenant)
	if err != nil {
		return nil, err
	}
	rules := make([]Rule, len(recs))
	for i, rec := range recs {
		rules[i] = rec.Rule
	}
	return rules, nil
}

// Get returns one rule; ErrNotFound if the tenant has none by that name.
func (s *Store) Get(ctx context.Context, tenant, name string) (Record, error) {
	rec, err := s.get(ctx, s.db, tenant, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Record{}, fmt.Errorf("get sampling rule %s: %w", name, err)
	}
	return rec, err
}

func (s *Store) get(ctx context.Context, q querier, tenant, name string) (Record, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT name, rule, created_at, modified_at FROM sampling_rules WHERE tenant_id = $1 AND name = $2`, tenant, name)
	if err != nil {
		return Record{}, err
	}
	defer rows.Close()
	if rows.Next() {
		return s.scan(rows)
	}
	if err := rows.Err(); err != nil {
		return Record{}, err
	}
	if name == DefaultRuleName {
		return s.builtinDefault(ctx, q, tenant)
	}
	return Record{}, fmt.Errorf("%w: %q; GetSamplingRules lists the existing rules", ErrNotFound, truncate(name, 40))
}

func (s *Store) scan(rows *sql.Rows) (Record, error) {
	var (
		name, body        string
		created, modified int64
		rec               Record
	)
	if err := rows.Scan(&name, &body, &created, &modified); err != nil {
		return Record{}, err
	}
	if err := json.Unmarshal([]byte(body), &rec.Rule); err != nil {
		return Record{}, fmt.Errorf("sampling rule %s: stored JSON is corrupt: %w", name, err)
	}
	// The ARN follows the configured region and account, not the stored one.
	rec.Rule.RuleName, rec.Rule.RuleARN = name, s.RuleARN(name)
	rec.CreatedAt, rec.ModifiedAt = time.UnixMilli(created), time.UnixMilli(modified)
	return rec, nil
}

// builtinDefault is the Default rule of a tenant that never updated it,
// dated from the tenant's creation.
func (s *Store) builtinDefault(ctx context.Context, q querier, tenant string) (Record, error) {
	var created int64
	err := q.QueryRowContext(ctx, `SELECT created_at FROM tenants WHERE id = $1`, tenant).Scan(&created)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Record{}, err
	}
	t := time.UnixMilli(created)
	return Record{Rule: DefaultRule(s.RuleARN(DefaultRuleName)), CreatedAt: t, ModifiedAt: t}, nil
}

// Create adds a rule. RuleName may be left empty when RuleARN names the
// rule; RuleARN is filled in. Errors: *ValidationError, ErrExists (also for
// "Default"), ErrRuleLimit when the tenant has Options.MaxRules rules
// besides Default.
func (s *Store) Create(ctx context.Context, tenant string, r Rule) (Record, error) {
	name, err := s.ResolveName(r.RuleName, r.RuleARN)
	if err != nil {
		return Record{}, err
	}
	if name == DefaultRuleName {
		return Record{}, fmt.Errorf("%w: every tenant has the Default rule; update its FixedRate or ReservoirSize with UpdateSamplingRule", ErrExists)
	}
	r.RuleName, r.RuleARN = name, s.RuleARN(name)
	if err := r.Validate(); err != nil {
		return Record{}, err
	}
	now := time.UnixMilli(s.opts.Now().UnixMilli())
	rec := Record{Rule: r, CreatedAt: now, ModifiedAt: now}
	err = s.write(ctx, tenant, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx,
			`SELECT COUNT(*) FROM sampling_rules WHERE tenant_id = $1 AND name <> $2`, tenant, DefaultRuleName).Scan(&n); err != nil {
			return err
		}
		if n >= s.opts.MaxRules {
			return fmt.Errorf("%w: the tenant has %d rules besides Default, the limit; delete one first", ErrRuleLimit, n)
		}
		return s.insert(ctx, tx, tenant, rec)
	})
	if err != nil {
		return Record{}, err
	}
	return rec, nil
}

func (s *Store) insert(ctx context.Context, tx *sql.Tx, tenant string, rec Record) error {
	body, err := json.Marshal(rec.Rule)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx,
		`INSERT INTO sampling_rules (tenant_id, name, priority, rule, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, name) DO NOTHING`,
		tenant, rec.Rule.RuleName, rec.Rule.Priority, string(body), rec.CreatedAt.UnixMilli(), rec.ModifiedAt.UnixMilli())
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: %q; choose another RuleName or update the rule", ErrExists, rec.Rule.RuleName)
	}
	return nil
}

// Update changes the fields u sets. name identifies the rule; when empty,
// u.RuleName or u.RuleARN does (and when given they must agree with name).
// The Default rule accepts FixedRate and ReservoirSize only. Errors:
// *ValidationError, ErrNotFound.
func (s *Store) Update(ctx context.Context, tenant, name string, u RuleUpdate) (Record, error) {
	var uname, uarn string
	if u.RuleName != nil {
		uname = *u.RuleName
	}
	if u.RuleARN != nil {
		uarn = *u.RuleARN
	}
	target, err := s.ResolveName(uname, uarn)
	switch {
	case name != "" && uname == "" && uarn == "":
		target, err = name, nil
	case err != nil:
		return Record{}, err
	case name != "" && target != name:
		return Record{}, invalid("RuleName", "the update names rule %q but rule %q was addressed", truncate(target, 40), truncate(name, 40))
	}
	var rec Record
	err = s.write(ctx, tenant, func(tx *sql.Tx) error {
		old, err := s.get(ctx, tx, tenant, target)
		if err != nil {
			return err
		}
		r, err := old.Rule.apply(u)
		if err != nil {
			return err
		}
		rec = Record{Rule: r, CreatedAt: old.CreatedAt, ModifiedAt: time.UnixMilli(s.opts.Now().UnixMilli())}
		body, err := json.Marshal(rec.Rule)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx,
			`UPDATE sampling_rules SET priority = $1, rule = $2, modified_at = $3 WHERE tenant_id = $4 AND name = $5`,
			r.Priority, string(body), rec.ModifiedAt.UnixMilli(), tenant, target)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 { // the built-in Default, updated for the first time
			return s.insert(ctx, tx, tenant, rec)
		}
		return nil
	})
	if err != nil {
		return Record{}, err
	}
	return rec, nil
}

// Delete removes a rule and returns it as it was. Errors: ErrNotFound, a
// *ValidationError wrapping ErrDefaultRule for "Default".
func (s *Store) Delete(ctx context.Context, tenant, name string) (Record, error) {
	if name == DefaultRuleName {
		return Record{}, &ValidationError{Field: "RuleName", kind: ErrDefaultRule,
			Reason: "the Default rule cannot be deleted; update its FixedRate or ReservoirSize instead (0 and 0 sample nothing it matches)"}
	}
	var rec Record
	err := s.write(ctx, tenant, func(tx *sql.Tx) error {
		var err error
		if rec, err = s.get(ctx, tx, tenant, name); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sampling_rules WHERE tenant_id = $1 AND name = $2`, tenant, name)
		return err
	})
	if err != nil {
		return Record{}, err
	}
	return rec, nil
}

// LastModification returns when the tenant's rules last changed, or the
// zero Time if they never did.
func (s *Store) LastModification(ctx context.Context, tenant string) (time.Time, error) {
	var ms int64
	err := s.db.QueryRowContext(ctx, `SELECT last_modified FROM sampling_rule_changes WHERE tenant_id = $1`, tenant).Scan(&ms)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, fmt.Errorf("read sampling rule modification time of tenant %s: %w", tenant, err)
	}
	return time.UnixMilli(ms), nil
}

// write runs fn in a transaction and records the change time. Errors of
// this package pass through unwrapped; others get context.
func (s *Store) write(ctx context.Context, tenant string, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("change sampling rules of tenant %s: %w", tenant, err)
	}
	defer tx.Rollback() // no-op after Commit
	if err := fn(tx); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrExists) || errors.Is(err, ErrRuleLimit) {
			return err
		}
		return fmt.Errorf("change sampling rules of tenant %s: %w", tenant, err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO sampling_rule_changes (tenant_id, last_modified) VALUES ($1, $2) ON CONFLICT (tenant_id) DO UPDATE SET last_modified = $2`,
		tenant, s.opts.Now().UnixMilli()); err != nil {
		return fmt.Errorf("change sampling rules of tenant %s: %w", tenant, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("change sampling rules of tenant %s: commit: %w", tenant, err)
	}
	return nil
}
