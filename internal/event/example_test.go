package event_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

// A state change and its event commit together; subscribers see the event
// once the transaction has committed.
func ExampleBus_Publish() {
	dir, _ := os.MkdirTemp("", "lsdvr-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "lsdvr.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()

	clock := func() time.Time { return time.Date(2026, 12, 4, 19, 20, 0, 0, time.UTC) }
	bus := event.NewBus(db, clock)
	bus.Subscribe(func(ev *event.Event) { fmt.Println("committed:", ev.Seq, ev.Action) })

	err = db.InTx(ctx, func(tx *store.Tx) error {
		_, err := bus.Publish(ctx, tx, event.Notify{Title: "demo is live", Body: "Recording started", Category: "live"})
		return err
	})
	fmt.Println("error:", err)
	// Output:
	// committed: 1 notify
	// error: <nil>
}
