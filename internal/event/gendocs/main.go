// Command gendocs writes the events reference (EVENTS.md) and JSON Schema
// (events.schema.json) from the event catalogue. Run it with go generate.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lsdvr/lsdvr/internal/event"
)

func main() {
	out := flag.String("out", "docs", "folder to write EVENTS.md and events.schema.json to")
	flag.Parse()
	schema, err := event.Schema()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
	files := map[string][]byte{
		"events.schema.json": schema,
		"EVENTS.md":          []byte(event.Markdown()),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(*out, name), body, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gendocs:", err)
			os.Exit(1)
		}
	}
}
