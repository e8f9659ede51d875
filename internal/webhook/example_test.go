package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
	"github.com/lsdvr/lsdvr/internal/webhook"
)

// Example creates an endpoint, publishes an event and verifies the delivery
// the way a receiver does, with the Standard Webhooks reference library and
// the secret shown when the endpoint was created.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "lsdvr-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, filepath.Join(dir, "lsdvr.db"))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	bus := event.NewBus(db, nil)
	svc, err := webhook.New(webhook.Config{}, db, bus, nil)
	if err != nil {
		panic(err)
	}
	if err := svc.Start(ctx); err != nil {
		panic(err)
	}
	defer svc.Stop(ctx)

	// The receiver learns the secret once the endpoint exists.
	secrets := make(chan string, 1)
	verified := make(chan string, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		wh, err := standardwebhooks.NewWebhook(<-secrets)
		if err != nil {
			panic(err)
		}
		if err := wh.Verify(body, r.Header); err != nil {
			verified <- "rejected: " + err.Error()
			return
		}
		var env event.Envelope
		_ = json.Unmarshal(body, &env)
		verified <- fmt.Sprintf("verified %s, webhook-id is the event id: %t", env.Action, env.ID == r.Header.Get("webhook-id"))
	}))
	defer receiver.Close()

	ep, err := svc.Create(ctx, webhook.CreateParams{
		URL:     receiver.URL,
		Actions: []event.Action{event.ActionEndCapture},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("secret shown once:", len(ep.Secret) > len(webhook.SecretPrefix))
	secrets <- ep.Secret

	if _, err := bus.PublishNow(ctx, event.EndCapture{VOD: dvr.VOD{Basename: "chan_2026"}, Success: true}); err != nil {
		panic(err)
	}
	select {
	case msg := <-verified:
		fmt.Println(msg)
	case <-time.After(10 * time.Second):
		fmt.Println("no delivery")
	}
	// Output:
	// secret shown once: true
	// verified end_capture, webhook-id is the event id: true
}
