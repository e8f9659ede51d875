package record

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
)

// VODInfo is the content of <basename>.info.json, written beside the MP4 so
// that a VOD's folder describes itself without the database.
type VODInfo struct {
	ID          int64         `json:"id"`
	Basename    string        `json:"basename"`
	ChannelID   int64         `json:"channel_id"`
	Channel     string        `json:"channel"`
	Title       string        `json:"title,omitempty"`
	Status      string        `json:"status"`
	StartedAt   time.Time     `json:"started_at"`
	EndedAt     *time.Time    `json:"ended_at,omitempty"`
	DurationSec float64       `json:"duration_sec"`
	Chapters    []InfoChapter `json:"chapters"`
	// Files are the VOD's files when the info was written, the info file
	// itself excepted.
	Files       []VODFile `json:"files"`
	ConvertedAt time.Time `json:"converted_at"`
}

// InfoChapter is a chapter of VODInfo, with its end in the MP4.
type InfoChapter struct {
	dvr.Chapter
	EndSec float64 `json:"end_sec"`
}

// newVODInfo describes v as it is once converted to an MP4 of duration dur.
func newVODInfo(v dvr.VOD, status string, dur time.Duration, files []VODFile, now time.Time) VODInfo {
	info := VODInfo{
		ID: v.ID, Basename: v.Basename, ChannelID: v.ChannelID, Channel: v.ChannelName, Title: v.Title,
		Status: status, StartedAt: v.StartedAt, EndedAt: v.EndedAt, DurationSec: dur.Seconds(),
		Chapters: []InfoChapter{}, Files: []VODFile{}, ConvertedAt: now.UTC().Truncate(time.Millisecond),
	}
	for i, ch := range v.Chapters {
		end := dur.Seconds()
		if i+1 < len(v.Chapters) {
			end = min(v.Chapters[i+1].OffsetSec, end)
		}
		info.Chapters = append(info.Chapters, InfoChapter{Chapter: ch, EndSec: max(end, ch.OffsetSec)})
	}
	for _, f := range files {
		if f.Kind != FileInfoJSON {
			info.Files = append(info.Files, f)
		}
	}
	return info
}

// writeInfo writes info as indented JSON to path.
func writeInfo(path string, info VODInfo) error {
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	return writeFileAtomic(path, append(data, '\n'))
}

// writeFileAtomic writes data to path through a temporary file in the same
// folder and a rename, so that path is never seen half-written.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}
