package event_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/event"
)

// TestDocsUpToDate fails when the committed docs differ from what the
// catalogue generates: run `go generate ./internal/event` and commit.
func TestDocsUpToDate(t *testing.T) {
	t.Parallel()
	schema, err := event.Schema()
	require.NoError(t, err)
	committed, err := os.ReadFile(filepath.Join("..", "..", "docs", "events.schema.json"))
	require.NoError(t, err)
	require.Equal(t, string(schema), string(committed), "docs/events.schema.json is stale: run go generate ./internal/event")

	md, err := os.ReadFile(filepath.Join("..", "..", "docs", "EVENTS.md"))
	require.NoError(t, err)
	require.Equal(t, event.Markdown(), string(md), "docs/EVENTS.md is stale: run go generate ./internal/event")
}

func TestSchemaCoversEveryAction(t *testing.T) {
	t.Parallel()
	raw, err := event.Schema()
	require.NoError(t, err)
	var doc struct {
		OneOf []map[string]string       `json:"oneOf"`
		Defs  map[string]map[string]any `json:"$defs"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.Len(t, doc.OneOf, len(event.Actions()))
	seed := []string{"init", "connected", "start_download", "end_download", "start_capture", "end_capture",
		"start_convert", "end_convert", "chapter_update", "config_save", "chat_download", "vod_download",
		"video_download", "notify", "log", "alert", "job_save", "job_clear", "job_update", "job_progress",
		"vod_removed", "vod_updated", "channel_updated"}
	for _, a := range seed {
		def, ok := doc.Defs["event_"+a]
		require.True(t, ok, "action %s has no schema", a)
		require.True(t, event.Action(a).Valid())
		props := def["properties"].(map[string]any)
		require.Equal(t, map[string]any{"const": a}, props["action"])
		require.NotEmpty(t, def["description"])
	}
}
