package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

func setup(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "lsdvr.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenAppliesEveryMigrationOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "lsdvr.db")
	ctx := context.Background()
	db, err := Open(ctx, path)
	require.NoError(t, err)
	var applied int
	require.NoError(t, db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&applied))
	migs, err := loadMigrations(sqliteMigrations, "migrations/sqlite")
	require.NoError(t, err)
	require.Equal(t, len(migs), applied)
	require.NoError(t, db.Close())
	require.NoError(t, db.Close(), "a second Close is harmless")

	// Reopening applies nothing again.
	db, err = Open(ctx, path)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&applied))
	require.Equal(t, len(migs), applied)
	require.NoError(t, db.Ping(ctx))
}

func TestLoadMigrationsRejectsBadNames(t *testing.T) {
	t.Parallel()
	_, err := loadMigrations(fstest.MapFS{"m/init.sql": {Data: []byte("")}}, "m")
	require.ErrorContains(t, err, "name must be NNN_what.sql")
	_, err = loadMigrations(fstest.MapFS{"m/001_a.sql": {}, "m/001_b.sql": {}}, "m")
	require.ErrorContains(t, err, "share a number")
	migs, err := loadMigrations(fstest.MapFS{"m/010_b.sql": {}, "m/002_a.sql": {}}, "m")
	require.NoError(t, err)
	require.Equal(t, []int{2, 10}, []int{migs[0].version, migs[1].version})
}

func TestReadPoolIsReadOnly(t *testing.T) {
	t.Parallel()
	db := setup(t)
	_, err := db.Read.ExecContext(context.Background(), `INSERT INTO events (id, action, created_at, body) VALUES ('x', 'log', 0, x'')`)
	require.Error(t, err, "API reads must never write")
}

// The statement cache must be invisible: the same queries give the same
// results prepared or not, and a rolled-back transaction leaves nothing.
func TestTxReusesPreparedStatements(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	const insert = `INSERT INTO events (id, action, created_at, body) VALUES (?, 'log', 0, x'')`
	for i, id := range []string{"a", "b", "c"} {
		require.NoError(t, db.InTx(ctx, func(tx *Tx) error {
			_, err := tx.ExecContext(ctx, insert, id)
			return err
		}))
		db.stmtMu.Lock()
		_, cached := db.stmts[insert]
		db.stmtMu.Unlock()
		require.True(t, cached, "prepared after its first use (round %d)", i)
	}
	boom := errors.New("boom")
	err := db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, insert, "d")
		require.NoError(t, err)
		return boom
	})
	require.ErrorIs(t, err, boom)

	var ids []string
	require.NoError(t, db.InTx(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM events ORDER BY seq`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	}))
	require.Equal(t, []string{"a", "b", "c"}, ids)
}

func TestAfterCommitRunsOnlyOnCommit(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	var ran []string
	require.NoError(t, db.InTx(ctx, func(tx *Tx) error {
		tx.AfterCommit(func() { ran = append(ran, "committed") })
		return nil
	}))
	_ = db.InTx(ctx, func(tx *Tx) error {
		tx.AfterCommit(func() { ran = append(ran, "rolled back") })
		return errors.New("no")
	})
	require.Equal(t, []string{"committed"}, ran)
}
