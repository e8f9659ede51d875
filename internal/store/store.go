// Package store opens lsdvr's database and runs its migrations. SQLite (the
// embedded default) gets one write connection, shared by every writer
// including the job engine, and a separate pool of read-only connections so
// that API reads never queue behind writes. Each domain package owns the SQL
// of its own tables; store owns only the connection, transactions and schema.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Querier is what both *sql.DB and *sql.Tx offer; query helpers take it so
// they run inside or outside a transaction alike.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var (
	_ Querier = (*sql.DB)(nil)
	_ Querier = (*sql.Tx)(nil)
)

// DB is an open lsdvr database. It is safe for concurrent use.
type DB struct {
	// Write is the single writing connection. The job engine shares it, so
	// never issue a statement on it while one of our transactions is open
	// (use the *Tx variants, e.g. InsertTx).
	Write *sql.DB
	// Read is a pool of read-only connections.
	Read *sql.DB
	// Path is the SQLite file the database lives in.
	Path string

	// commitMu is held across COMMIT and the after-commit callbacks so that
	// callbacks observe transactions in commit order (events in seq order).
	commitMu sync.Mutex

	// stmts caches statements prepared on the write connection, by query.
	// Parsing SQL was a third of the writer's time on the delivery hot
	// path; a prepared statement is parsed once.
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt
}

// maxCachedStmts bounds the statement cache; queries built at run time
// (IN lists of varying length) beyond it simply stay unprepared.
const maxCachedStmts = 256

// Open opens (creating if needed) the SQLite database at path and applies
// every pending migration.
func Open(ctx context.Context, path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create database folder: %w", err)
	}
	write, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db := &DB{Write: write, Path: path, stmts: map[string]*sql.Stmt{}}
	if err := db.migrate(ctx); err != nil {
		write.Close()
		return nil, err
	}
	read, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open read pool %s: %w", path, err)
	}
	read.SetMaxOpenConns(4)
	read.SetMaxIdleConns(4)
	db.Read = read
	return db, nil
}

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		// BEGIN IMMEDIATE takes the write lock up front, so a transaction
		// never fails half-way on a lock upgrade.
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Close closes both pools. It is safe to call more than once.
func (db *DB) Close() error {
	var errs []error
	if db.Read != nil {
		errs = append(errs, db.Read.Close())
	}
	db.stmtMu.Lock()
	for q, st := range db.stmts {
		errs = append(errs, st.Close())
		delete(db.stmts, q)
	}
	db.stmtMu.Unlock()
	if db.Write != nil {
		errs = append(errs, db.Write.Close())
	}
	return errors.Join(errs...)
}

// Ping reports whether the database answers a trivial query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.Read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Tx is a write transaction. Callbacks registered with AfterCommit run once
// it has committed, in commit order relative to other transactions. Its
// ExecContext, QueryContext and QueryRowContext reuse statements prepared
// on the write connection: each query is parsed once per process.
type Tx struct {
	*sql.Tx
	db          *DB
	afterCommit []func()
	unprepared  []string // queries run unprepared, to prepare after commit
}

// stmt returns the statement for query inside tx, or nil when it is not
// prepared yet (it will be once tx is over).
func (tx *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	tx.db.stmtMu.Lock()
	st := tx.db.stmts[query]
	tx.db.stmtMu.Unlock()
	if st == nil {
		tx.unprepared = append(tx.unprepared, query)
		return nil
	}
	return tx.Tx.StmtContext(ctx, st)
}

// ExecContext runs query in the transaction.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := tx.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.Tx.ExecContext(ctx, query, args...)
}

// QueryContext runs query in the transaction.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := tx.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs query in the transaction.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := tx.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.Tx.QueryRowContext(ctx, query, args...)
}

var _ Querier = (*Tx)(nil)

// prepare prepares queries first seen in a transaction, now that the write
// connection is free again. A query that fails to prepare is left
// unprepared; it ran fine as a plain statement.
func (db *DB) prepare(queries []string) {
	for _, q := range queries {
		db.stmtMu.Lock()
		_, done := db.stmts[q]
		full := len(db.stmts) >= maxCachedStmts
		db.stmtMu.Unlock()
		if done || full {
			continue
		}
		st, err := db.Write.PrepareContext(context.Background(), q)
		if err != nil {
			continue
		}
		db.stmtMu.Lock()
		if _, done := db.stmts[q]; done {
			st.Close()
		} else {
			db.stmts[q] = st
		}
		db.stmtMu.Unlock()
	}
}

// AfterCommit registers fn to run after the transaction commits. fn must not
// block: it runs while the next transaction waits to commit.
func (tx *Tx) AfterCommit(fn func()) { tx.afterCommit = append(tx.afterCommit, fn) }

// InTx runs fn in a write transaction and commits it when fn returns nil.
// Any error from fn rolls the transaction back and is returned unchanged.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	tx := &Tx{Tx: sqlTx, db: db}
	defer func() {
		if len(tx.unprepared) > 0 {
			db.prepare(tx.unprepared)
		}
	}()
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	db.commitMu.Lock()
	defer db.commitMu.Unlock()
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

// UnixMilli converts t to the integer milliseconds the schema stores times as.
func UnixMilli(t time.Time) int64 { return t.UnixMilli() }

// FromMilli converts stored milliseconds back to a UTC time.
func FromMilli(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// IsUniqueViolation reports whether err is a UNIQUE constraint failure.
func IsUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
