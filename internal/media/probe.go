package media

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// FFprobeArgs returns the argv (without the executable) that makes ffprobe
// print path's format, streams and chapters as JSON, for ParseFFprobe.
func FFprobeArgs(path string) []string {
	return []string{
		"-v", "error", "-hide_banner",
		"-print_format", "json",
		"-show_format", "-show_streams", "-show_chapters",
		"-i", path,
	}
}

// ProbeResult is what ffprobe says about a media file.
type ProbeResult struct {
	// Format is ffprobe's format name, e.g. "mpegts" or
	// "mov,mp4,m4a,3gp,3g2,mj2".
	Format string `json:"format"`
	// Duration of the file; 0 when ffprobe does not know it.
	Duration time.Duration `json:"duration"`
	// Size in bytes, and overall bit rate in bits per second.
	Size    int64 `json:"size,omitempty"`
	BitRate int64 `json:"bit_rate,omitempty"`
	// Streams in file order.
	Streams []ProbeStream `json:"streams"`
	// Chapters in file order.
	Chapters []ProbeChapter `json:"chapters,omitempty"`
}

// ProbeStream is one stream of a probed file.
type ProbeStream struct {
	Index int `json:"index"`
	// Type is "video", "audio", "data", "subtitle"...
	Type  string `json:"type"`
	Codec string `json:"codec"`
	// Width and Height are set for video.
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
	// Duration of the stream; 0 when unknown.
	Duration time.Duration `json:"duration,omitempty"`
}

// ProbeChapter is one chapter of a probed file.
type ProbeChapter struct {
	Start time.Duration `json:"start"`
	End   time.Duration `json:"end"`
	Title string        `json:"title"`
}

// Video returns the first video stream, and false when there is none.
func (r ProbeResult) Video() (ProbeStream, bool) { return r.firstOf("video") }

// Audio returns the first audio stream, and false when there is none.
func (r ProbeResult) Audio() (ProbeStream, bool) { return r.firstOf("audio") }

func (r ProbeResult) firstOf(typ string) (ProbeStream, bool) {
	for _, s := range r.Streams {
		if s.Type == typ {
			return s, true
		}
	}
	return ProbeStream{}, false
}

// ParseFFprobe parses the JSON printed by ffprobe run with FFprobeArgs. It
// fails on malformed JSON, a missing "format" section, and unparsable
// numbers, naming the field.
func ParseFFprobe(data []byte) (ProbeResult, error) {
	var doc struct {
		Format *struct {
			FormatName string `json:"format_name"`
			Duration   string `json:"duration"`
			Size       string `json:"size"`
			BitRate    string `json:"bit_rate"`
		} `json:"format"`
		Streams []struct {
			Index     int    `json:"index"`
			CodecType string `json:"codec_type"`
			CodecName string `json:"codec_name"`
			Width     int    `json:"width"`
			Height    int    `json:"height"`
			Duration  string `json:"duration"`
		} `json:"streams"`
		Chapters []struct {
			StartTime string            `json:"start_time"`
			EndTime   string            `json:"end_time"`
			Tags      map[string]string `json:"tags"`
		} `json:"chapters"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return ProbeResult{}, fmt.Errorf("parse ffprobe json: %w", err)
	}
	if doc.Format == nil {
		return ProbeResult{}, fmt.Errorf("parse ffprobe json: no \"format\" section")
	}
	r := ProbeResult{Format: doc.Format.FormatName, Streams: []ProbeStream{}}
	var err error
	if r.Duration, err = parseSeconds(doc.Format.Duration); err != nil {
		return ProbeResult{}, fmt.Errorf("parse ffprobe json: format.duration: %w", err)
	}
	if r.Size, err = parseOptInt(doc.Format.Size); err != nil {
		return ProbeResult{}, fmt.Errorf("parse ffprobe json: format.size: %w", err)
	}
	if r.BitRate, err = parseOptInt(doc.Format.BitRate); err != nil {
		return ProbeResult{}, fmt.Errorf("parse ffprobe json: format.bit_rate: %w", err)
	}
	for i, s := range doc.Streams {
		d, err := parseSeconds(s.Duration)
		if err != nil {
			return ProbeResult{}, fmt.Errorf("parse ffprobe json: streams[%d].duration: %w", i, err)
		}
		r.Streams = append(r.Streams, ProbeStream{Index: s.Index, Type: s.CodecType, Codec: s.CodecName, Width: s.Width, Height: s.Height, Duration: d})
	}
	for i, c := range doc.Chapters {
		start, err := parseSeconds(c.StartTime)
		if err != nil {
			return ProbeResult{}, fmt.Errorf("parse ffprobe json: chapters[%d].start_time: %w", i, err)
		}
		end, err := parseSeconds(c.EndTime)
		if err != nil {
			return ProbeResult{}, fmt.Errorf("parse ffprobe json: chapters[%d].end_time: %w", i, err)
		}
		r.Chapters = append(r.Chapters, ProbeChapter{Start: start, End: end, Title: c.Tags["title"]})
	}
	return r, nil
}

// parseSeconds parses ffprobe's decimal seconds; "" and "N/A" mean unknown.
func parseSeconds(s string) (time.Duration, error) {
	if s == "" || s == "N/A" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	return time.Duration(f * float64(time.Second)).Round(time.Microsecond), nil
}

func parseOptInt(s string) (int64, error) {
	if s == "" || s == "N/A" {
		return 0, nil
	}
	return strconv.ParseInt(s, 10, 64)
}
