package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lsdvr/lsdvr/internal/client"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/webhook"
)

func newWebhookCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Manage webhook endpoints: add, list, rm, test, deliveries, replay, rotate",
	}
	cmd.AddCommand(
		newWebhookAddCmd(g),
		newWebhookListCmd(g),
		newWebhookRmCmd(g),
		newWebhookTestCmd(g),
		newWebhookDeliveriesCmd(g),
		newWebhookReplayCmd(g),
		newWebhookRotateCmd(g),
	)
	return cmd
}

func newWebhookAddCmd(g *globals) *cobra.Command {
	var (
		actions     []string
		secret      string
		description string
	)
	cmd := &cobra.Command{
		Use:   "add URL",
		Short: "Add a webhook endpoint and print its secret (shown this once)",
		Long: "Add a webhook endpoint. Without --actions it receives every action but log and\n" +
			"job_progress; --actions '*' selects every action. Without --secret one is generated.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			p := webhook.CreateParams{URL: args[0], Secret: secret, Description: description}
			for _, a := range actions {
				p.Actions = append(p.Actions, event.Action(strings.TrimSpace(a)))
			}
			ep, err := c.CreateWebhook(cmd.Context(), p)
			if err != nil {
				return err
			}
			return printResult(g, cmd.OutOrStdout(), ep, "added webhook %d for %s (actions: %s)\nsecret: %s\nStore the secret now: it is not shown again.\n",
				ep.ID, ep.URL, webhookActionsCell(ep.Actions), ep.Secret)
		},
	}
	cmd.Flags().StringSliceVar(&actions, "actions", nil, "comma-separated actions to deliver, or '*' for all (default: all but log and job_progress)")
	cmd.Flags().StringVar(&secret, "secret", "", "signing secret, whsec_ + base64 of at least 24 bytes (default: generated)")
	cmd.Flags().StringVar(&description, "description", "", "what the endpoint is for")
	return cmd
}

func newWebhookListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List webhook endpoints",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			eps, err := c.ListWebhooks(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			return printList(g, out, eps, "no webhooks; add one with: lsdvr webhook add URL",
				func() error { return writeWebhookTable(out, eps, time.Local) })
		},
	}
}

func newWebhookRmCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rm ID",
		Short: "Remove a webhook endpoint; its pending deliveries are dropped",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, id, err := clientAndWebhookID(g, args[0])
			if err != nil {
				return err
			}
			if err := c.DeleteWebhook(cmd.Context(), id); err != nil {
				return err
			}
			return printResult(g, cmd.OutOrStdout(), map[string]any{"id": id, "deleted": true}, "removed webhook %d\n", id)
		},
	}
}

func newWebhookTestCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "test ID",
		Short: "Send a test notify event to one webhook endpoint only",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, id, err := clientAndWebhookID(g, args[0])
			if err != nil {
				return err
			}
			res, err := c.TestWebhook(cmd.Context(), id)
			if err != nil {
				return err
			}
			return printResult(g, cmd.OutOrStdout(), res, "sent test event %s (seq %d) to webhook %d; see: lsdvr webhook deliveries %d\n",
				res.EventID, res.Seq, id, id)
		},
	}
}

func newWebhookDeliveriesCmd(g *globals) *cobra.Command {
	var (
		limit  int
		before int64
	)
	cmd := &cobra.Command{
		Use:   "deliveries ID",
		Short: "Show the delivery attempts of a webhook endpoint, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, id, err := clientAndWebhookID(g, args[0])
			if err != nil {
				return err
			}
			as, err := c.WebhookAttempts(cmd.Context(), id, limit, before)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			return printList(g, out, as, fmt.Sprintf("no delivery attempts for webhook %d yet", id),
				func() error { return writeAttemptTable(out, as, time.Local) })
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many attempts (1..1000)")
	cmd.Flags().Int64Var(&before, "before", 0, "only attempts older than this attempt id, for paging")
	return cmd
}

func newWebhookReplayCmd(g *globals) *cobra.Command {
	var (
		endpoint int64
		since    string
	)
	cmd := &cobra.Command{
		Use:   "replay DELIVERY_ID | replay --endpoint ID --since DURATION|RFC3339",
		Short: "Deliver an event again, or every failed delivery of an endpoint since a time",
		Example: "  lsdvr webhook replay 42\n" +
			"  lsdvr webhook replay --endpoint 3 --since 24h\n" +
			"  lsdvr webhook replay --endpoint 3 --since 2026-12-04T00:00:00Z",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch {
			case len(args) == 1 && endpoint == 0 && since == "":
				id, err := parseWebhookID("delivery id", args[0])
				if err != nil {
					return err
				}
				d, err := c.ReplayDelivery(cmd.Context(), id)
				if err != nil {
					return err
				}
				return printResult(g, out, d, "replaying event %s to webhook %d as delivery %d\n", d.EventID, d.EndpointID, d.ID)
			case len(args) == 0 && endpoint > 0 && since != "":
				t, err := parseSince(since, time.Now())
				if err != nil {
					return err
				}
				n, err := c.ReplayFailedWebhooks(cmd.Context(), endpoint, t)
				if err != nil {
					return err
				}
				return printResult(g, out, map[string]int{"replayed": n}, "replaying %d failed deliveries to webhook %d\n", n, endpoint)
			default:
				return fmt.Errorf("give either a DELIVERY_ID, or --endpoint ID and --since DURATION|RFC3339")
			}
		},
	}
	cmd.Flags().Int64Var(&endpoint, "endpoint", 0, "replay the failed deliveries of this webhook")
	cmd.Flags().StringVar(&since, "since", "", "with --endpoint: failed deliveries created since this long ago (24h) or this time (RFC 3339)")
	return cmd
}

func newWebhookRotateCmd(g *globals) *cobra.Command {
	var (
		secret string
		grace  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "rotate ID",
		Short: "Give a webhook endpoint a new secret; the old one keeps signing for --grace",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseWebhookID("webhook id", args[0])
			if err != nil {
				return err
			}
			if grace < 0 {
				return fmt.Errorf("--grace must not be negative, got %s", grace)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			secs := int64(grace / time.Second)
			ep, err := c.RotateWebhook(cmd.Context(), id, webhook.RotateParams{Secret: secret, GraceSeconds: &secs})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if g.json {
				return printJSON(out, ep)
			}
			_, err = fmt.Fprintf(out, "new secret for webhook %d: %s\n", ep.ID, ep.Secret)
			if err == nil && ep.PreviousSecretUntil != nil {
				_, err = fmt.Fprintf(out, "the old secret also signs until %s\n", ep.PreviousSecretUntil.In(time.Local).Format(time.DateTime))
			}
			return err
		},
	}
	cmd.Flags().StringVar(&secret, "secret", "", "the new secret, whsec_ + base64 of at least 24 bytes (default: generated)")
	cmd.Flags().DurationVar(&grace, "grace", webhook.DefaultRotationGrace, "how long deliveries are also signed with the old secret (0: stop at once)")
	return cmd
}

// clientAndWebhookID parses a webhook id argument, then connects, so that a
// bad id fails without a request.
func clientAndWebhookID(g *globals, arg string) (*client.Client, int64, error) {
	id, err := parseWebhookID("webhook id", arg)
	if err != nil {
		return nil, 0, err
	}
	c, err := g.client()
	return c, id, err
}

func parseWebhookID(what, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%s must be a positive integer, got %q", what, s)
	}
	return id, nil
}

// parseSince reads --since: a duration before now (24h, 90m) or an RFC 3339
// time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("--since must not be a negative duration, got %s", s)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--since must be a duration such as 24h or an RFC 3339 time such as 2026-12-04T19:20:00Z, got %q", s)
	}
	return t, nil
}

// writeWebhookTable prints endpoints as an aligned table with times in loc.
func writeWebhookTable(w io.Writer, eps []*webhook.Endpoint, loc *time.Location) error {
	tw := newTable(w, "ID", "URL", "ACTIONS", "STATE", "DESCRIPTION")
	for _, ep := range eps {
		state := "enabled"
		switch {
		case !ep.Enabled:
			state = "disabled"
			if ep.DisabledReason != "" {
				state += " (" + webhookCell(ep.DisabledReason, 60) + ")"
			}
		case ep.FailingSince != nil:
			state = "failing since " + ep.FailingSince.In(loc).Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", ep.ID, ep.URL, webhookActionsCell(ep.Actions), state, webhookCell(ep.Description, 40))
	}
	return tw.Flush()
}

// writeAttemptTable prints attempts as an aligned table with times in loc.
func writeAttemptTable(w io.Writer, as []*webhook.Attempt, loc *time.Location) error {
	tw := newTable(w, "ATTEMPTED", "DELIVERY", "EVENT", "ACTION", "STATUS", "TRY", "CODE", "LATENCY", "ERROR")
	for _, a := range as {
		code := "-"
		if a.Code != 0 {
			code = strconv.Itoa(a.Code)
		}
		errText := a.Error
		if errText == "" {
			errText = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%s\t%dms\t%s\n", a.AttemptedAt.In(loc).Format(time.DateTime),
			a.DeliveryID, a.EventID, a.Action, a.Status, a.Attempt, code, a.LatencyMS, webhookCell(errText, 60))
	}
	return tw.Flush()
}

func webhookActionsCell(actions []event.Action) string {
	if len(actions) == 0 {
		return "default (all but log, job_progress)"
	}
	parts := make([]string, len(actions))
	for i, a := range actions {
		parts[i] = string(a)
	}
	return strings.Join(parts, ",")
}

// webhookCell fits s on one line of at most n runes.
func webhookCell(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
