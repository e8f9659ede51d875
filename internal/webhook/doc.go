// Package webhook delivers lsdvr's events to HTTP endpoints, signed as the
// Standard Webhooks specification says, durably and at least once.
//
// # Endpoints
//
// An endpoint has a URL (http or https), a secret ("whsec_" + base64 of at
// least 24 bytes; generated when not given and shown only when created or
// rotated), an action filter (empty: every action but log and
// job_progress; "*": every action), a description and an enabled flag. An
// endpoint is disabled, with an alert event, when it answers 410 Gone or
// when its every attempt has failed for Config.DisableAfter.
//
// # Delivery
//
// New registers a hook on the event bus. Inside every publishing
// transaction the hook inserts a delivery row per matching enabled endpoint
// (the transactional outbox: a committed event is never lost), and once the
// transaction commits it hands the deliveries to an in-memory dispatcher, so
// the first attempt leaves within milliseconds. The hook reads endpoints
// from an in-memory cache that every endpoint change reloads.
//
// Each attempt is a POST of the event's envelope bytes with the headers
// webhook-id (the event id: the same on every attempt and replay, so
// receivers can drop duplicates), webhook-timestamp (unix seconds of the
// attempt) and webhook-signature ("v1,<base64 HMAC-SHA256>"; two of them,
// space-separated, while a rotated secret's grace period runs). A 2xx
// response is a success. Other outcomes are retried on Config.Schedule
// (0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by default, with jitter),
// honouring Retry-After on 429 and 503; after the last step the delivery
// is failed. A retry loop claims due deliveries by next_attempt_at every
// Config.PollInterval and, on Start, resumes whatever a previous run left
// pending.
//
// Workers (Config.Workers) are shared by all endpoints, with at most
// Config.PerEndpoint attempts in flight per endpoint, so a slow receiver
// never delays the others. Results are written by a single goroutine in
// batches, one transaction each, and every attempt is logged with its
// status code, latency, error and the start of the response body.
//
// # Use
//
//	svc, err := webhook.New(webhook.Config{}, db, bus, logger)
//	...
//	if err := svc.Start(ctx); err != nil { ... }
//	defer svc.Stop(shutdownCtx)
//	ep, err := svc.Create(ctx, webhook.CreateParams{URL: "https://example.com/hook"})
//	// ep.Secret is shown this once.
//
// Replay and ReplayFailed deliver events again; SendTest sends a test
// event to one endpoint.
package webhook
