package main

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lsdvr/lsdvr/internal/client"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// globals holds the flags every client subcommand shares.
type globals struct {
	server  string
	token   string
	json    bool
	environ []string
}

func newRootCmd(environ []string) *cobra.Command {
	g := &globals{environ: environ}
	root := &cobra.Command{
		Use:           "lsdvr",
		Short:         "A livestream DVR: records channels as they go live and tells the world about it",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.server, "server", envOr(environ, "LSDVR_SERVER", "http://127.0.0.1:8080"), "address of the lsdvr server (env LSDVR_SERVER)")
	root.PersistentFlags().StringVar(&g.token, "token", envOr(environ, "LSDVR_TOKEN", ""), "API token (env LSDVR_TOKEN)")
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print machine-readable JSON")
	// One line per subcommand; each lives in a file of its own.
	root.AddCommand(
		newServeCmd(g),
		newDoctorCmd(g),
		newEventsCmd(g),
		newConfigCmd(g),
		newJobCmd(g),
		newChannelCmd(g),
		newVODCmd(g),
		newWebhookCmd(g),
	)
	return root
}

func (g *globals) client() (*client.Client, error) {
	return client.New(g.server, g.token)
}

// printJSON writes v indented, for --json output.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func envOr(environ []string, key, def string) string {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return def
}
