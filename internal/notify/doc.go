// Package notify routes notify and alert events to notification services
// (Discord, Telegram, Pushover, ntfy, generic webhooks, ...) given as
// shoutrrr service URLs. Sending runs on a goroutine of its own behind a
// bounded queue, so the event bus never waits on a slow service.
package notify
