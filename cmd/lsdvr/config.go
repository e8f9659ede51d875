package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lsdvr/lsdvr/internal/client"
	"github.com/lsdvr/lsdvr/internal/config"
)

func newConfigCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show or change the server's configuration",
		Long: "Show the server's configuration (secrets redacted) and where each value comes from:\n" +
			"default, the config file, or the environment (LSDVR_* variables, which cannot be changed here).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return configShow(cmd, g) },
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "show",
			Short: "Show every key, its value and its source",
			Args:  cobra.NoArgs,
			RunE:  func(cmd *cobra.Command, args []string) error { return configShow(cmd, g) },
		},
		&cobra.Command{
			Use:   "set KEY=VALUE...",
			Short: "Change keys and save the config file",
			Long: "Change keys and save the config file. VALUE is text for text keys; for others it is\n" +
				"JSON when it parses as JSON (12, true, [\"live\",\"test\"]) and text otherwise (30s, live,test).\n" +
				"null resets a key to its default.",
			Example: "  lsdvr config set webhook.timeout=30s webhook.workers=16 notify.categories='[\"live\"]'",
			Args:    cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, view, err := fetchConfig(cmd.Context(), g)
				if err != nil {
					return err
				}
				types := make(map[string]string, len(view.Options))
				for _, o := range view.Options {
					types[o.Key] = string(o.Type)
				}
				changes, err := parseAssignments(args, types)
				if err != nil {
					return err
				}
				upd, err := c.SetConfig(cmd.Context(), changes)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if g.json {
					return printJSON(out, upd)
				}
				if len(upd.Changed) == 0 {
					fmt.Fprintln(out, "nothing changed")
					return nil
				}
				for _, k := range upd.Changed {
					fmt.Fprintf(out, "%s = %s\n", k, showValue(upd.Config[k]))
				}
				if len(upd.RestartRequired) > 0 {
					fmt.Fprintf(out, "restart the server for these to take effect: %s\n", strings.Join(upd.RestartRequired, ", "))
				}
				return nil
			},
		},
		&cobra.Command{
			Use:   "options",
			Short: "Document every key: environment variable, type, default",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				_, view, err := fetchConfig(cmd.Context(), g)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if g.json {
					return printJSON(out, view.Options)
				}
				for _, o := range view.Options {
					flags := ""
					if o.Secret {
						flags += " secret"
					}
					if o.Restart {
						flags += " restart"
					}
					fmt.Fprintf(out, "%s (%s, %s, default %s)%s\n    %s\n", o.Key, o.Env, o.Type, showValue(o.Default), flags, o.Doc)
				}
				return nil
			},
		},
	)
	return cmd
}

func configShow(cmd *cobra.Command, g *globals) error {
	_, view, err := fetchConfig(cmd.Context(), g)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if g.json {
		return printJSON(out, view)
	}
	return writeConfigTable(out, view.Config, view.Sources)
}

// fetchConfig connects and reads the server's configuration; the client is
// returned for a change that follows.
func fetchConfig(ctx context.Context, g *globals) (*client.Client, *client.ConfigView, error) {
	c, err := g.client()
	if err != nil {
		return nil, nil, err
	}
	view, err := c.Config(ctx)
	return c, view, err
}

func writeConfigTable(w io.Writer, values map[string]any, sources map[string]config.Source) error {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tw := newTable(w, "KEY", "VALUE", "SOURCE")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k, showValue(values[k]), sources[k])
	}
	return tw.Flush()
}

// showValue prints strings bare and everything else as JSON.
func showValue(v any) string {
	if s, ok := v.(string); ok {
		if s == "" {
			return `""`
		}
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// parseAssignments turns KEY=VALUE arguments into a change set. types maps
// keys to their option type: a text key takes the value as it is (so a
// numeric token stays text); others take JSON when it parses and text
// otherwise, so durations and comma-separated lists need no quotes. null
// always means "reset to the default".
func parseAssignments(args []string, types map[string]string) (map[string]any, error) {
	changes := make(map[string]any, len(args))
	for _, arg := range args {
		key, raw, ok := strings.Cut(arg, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, fmt.Errorf("argument %q must look like KEY=VALUE, e.g. webhook.timeout=30s", arg)
		}
		if _, dup := changes[key]; dup {
			return nil, fmt.Errorf("key %s is given twice", key)
		}
		var v any
		switch {
		case raw == "null":
			v = nil
		case types[key] == "string":
			v = raw
		case json.Unmarshal([]byte(raw), &v) != nil:
			v = raw
		}
		changes[key] = v
	}
	return changes, nil
}
