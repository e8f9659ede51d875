package main

import (
	"github.com/spf13/cobra"

	"github.com/lsdvr/lsdvr/internal/app"
)

func newServeCmd(g *globals) *cobra.Command {
	opts := app.Options{Version: version}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the lsdvr server",
		Long: `Run the lsdvr server: the HTTP API, the websocket, webhook delivery and the recorder.

With no flags it keeps everything under ./data (SQLite database, configuration, recordings)
and listens on 127.0.0.1:8080. SIGINT or SIGTERM stops it gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Environ = g.environ
			opts.Stderr = cmd.ErrOrStderr()
			return app.Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.DataDir, "data", "./data", "folder for the database, configuration and recordings")
	f.StringVar(&opts.Listen, "listen", "", "address to serve on (default 127.0.0.1:8080, or server.listen from the configuration)")
	f.StringVar(&opts.ConfigFile, "config", "", "configuration file (default config.yaml or config.toml in the data folder)")
	f.StringVar(&opts.DatabaseURL, "db", "", "database: a SQLite file path (default <data>/lsdvr.db)")
	return cmd
}
