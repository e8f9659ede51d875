// Command lsdvr is a livestream DVR: `lsdvr serve` runs the server, and the
// other subcommands are thin clients of its HTTP API.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := newRootCmd(os.Environ())
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "lsdvr:", err)
		os.Exit(1)
	}
}
