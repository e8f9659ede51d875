// Package media is the recording toolbox: it builds the argv of streamlink,
// ffmpeg and ffprobe from typed options, parses what those tools print, and
// runs them as supervised process groups.
//
// # Pure builders
//
// Every builder takes a typed options struct and returns []string; nothing
// here reads configuration, touches the database or knows what a channel is.
// The caller owns file names: builders never choose paths, and they never
// ask a tool to overwrite a file (streamlink gets no --force, ffmpeg gets -n).
//
// # Streamlink versions
//
// Debian ships streamlink 5.x while current releases are 8.x. The builders
// take the detected Version and only emit flags that version has:
//
//   - --stream-timeout, --stream-segment-threads/-attempts/-timeout replace
//     the --hls-* spellings (deprecated since 2.4, removed in 7.0); they exist
//     in every version we support, so they are always used.
//   - Progress on a non-terminal needs --force-progress before 5.4 and
//     --progress=force from 5.4 on (--force-progress was removed in 7.0).
//   - --twitch-disable-ads is only passed before 7.5: from 7.5 ad filtering
//     is always on and the flag is deprecated.
//   - --hls-live-restart is never passed: a DVR records from the live edge,
//     and restarting from the first segment would duplicate what an
//     interrupted capture already kept in its previous part.
//
// # Runner
//
// [Run] starts a tool in its own process group (and, on Linux, with a
// parent-death SIGKILL), logs every output line to a per-job file, feeds
// lines to a callback for progress, and on cancellation sends SIGTERM to the
// group, then SIGKILL after a grace period. It always waits for the process.
package media
