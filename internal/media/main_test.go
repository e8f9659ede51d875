package media_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/lsdvr/lsdvr/internal/media"
)

// TestMain doubles as the parent process of TestRunNoOrphanWhenParentDies:
// with MEDIA_HELPER_PARENT=1 the test binary supervises a tool with Run
// until it is killed.
func TestMain(m *testing.M) {
	if os.Getenv("MEDIA_HELPER_PARENT") == "1" {
		err := media.Run(context.Background(), media.Cmd{
			Path:   "/bin/sh",
			Args:   []string{"-c", `echo "tool pid $$"; while :; do sleep 0.05; done`},
			OnLine: func(stream, line string) { fmt.Println(line) },
		})
		fmt.Fprintln(os.Stderr, "tool ended while the parent lives:", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}
