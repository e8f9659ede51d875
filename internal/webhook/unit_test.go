package webhook

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
)

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	schedule := []time.Duration{0, 5 * time.Second, time.Minute, 10 * time.Minute}

	d, ok := retryDelay(schedule, 0, 1, 0)
	require.True(t, ok)
	require.Equal(t, 5*time.Second, d, "after attempt 1 comes step 1")
	d, ok = retryDelay(schedule, 0, 3, 0)
	require.True(t, ok)
	require.Equal(t, 10*time.Minute, d)
	_, ok = retryDelay(schedule, 0, 4, 0)
	require.False(t, ok, "after the last step the delivery is exhausted")

	for range 200 {
		d, _ := retryDelay(schedule, 0.2, 2, 0)
		require.GreaterOrEqual(t, d, 48*time.Second)
		require.Less(t, d, 72*time.Second)
	}

	d, _ = retryDelay(schedule, 0, 1, 30*time.Second)
	require.Equal(t, 30*time.Second, d, "a longer Retry-After wins")
	d, _ = retryDelay(schedule, 0, 2, 30*time.Second)
	require.Equal(t, time.Minute, d, "a shorter Retry-After does not shorten the step")
	d, _ = retryDelay(schedule, 0, 1, 24*time.Hour)
	require.Equal(t, 10*time.Minute, d, "Retry-After is capped at the longest step")
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 19, 20, 0, 0, time.UTC)
	require.Equal(t, 120*time.Second, parseRetryAfter("120", now))
	require.Equal(t, 90*time.Second, parseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now))
	require.Zero(t, parseRetryAfter("", now))
	require.Zero(t, parseRetryAfter("soon", now))
	require.Zero(t, parseRetryAfter("-5", now))
	require.Zero(t, parseRetryAfter(now.Add(-time.Hour).Format(http.TimeFormat), now), "a date in the past")
	require.Equal(t, 365*24*time.Hour, parseRetryAfter("99999999999999", now), "absurd values are clamped")
}

func TestSnippet(t *testing.T) {
	t.Parallel()
	require.Equal(t, "hello", snippet([]byte("hello"), 10))
	require.Equal(t, "hel", snippet([]byte("hello"), 3))
	// "é" is two bytes; a limit that cuts it drops it whole.
	require.Equal(t, "caf", snippet([]byte("café"), 4))
	got := snippet([]byte{'o', 'k', 0xff, 0xfe}, 10)
	require.True(t, utf8.ValidString(got))
	require.Equal(t, `ok\xff\xfe`, got)
	require.Empty(t, snippet([]byte("anything"), 0))
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	s1, err := GenerateSecret()
	require.NoError(t, err)
	s2, err := GenerateSecret()
	require.NoError(t, err)
	require.NotEqual(t, s1, s2)
	require.Len(t, s1, len("whsec_")+44, "32 bytes in base64")
	require.NoError(t, ValidateSecret(s1))
	require.NoError(t, ValidateSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "24 bytes is enough")

	for secret, msg := range map[string]string{
		"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw":   `secret must start with "whsec_"`,
		"whsec_not base64!":                  "standard base64",
		"whsec_c2hvcnQ=":                     "at least 24 bytes of key, got 5",
		"whsec_eHh4eHh4eHh4eHh4eHh4eHh4eHh4": "at least 24 bytes of key, got 21",
	} {
		err := ValidateSecret(secret)
		require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err), secret)
		require.ErrorContains(t, err, msg, secret)
	}
}

func TestValidateURL(t *testing.T) {
	t.Parallel()
	u, err := validateURL(" https://example.com/hook?x=1 ")
	require.NoError(t, err)
	require.Equal(t, "https://example.com/hook?x=1", u)
	for raw, msg := range map[string]string{
		"":                     "url is required",
		"ftp://example.com/x":  "must use http or https",
		"example.com/hook":     "must use http or https",
		"http://":              "must have a host",
		"http://exa mple.com/": "is not a valid URL",
		"http://[::1/":         "is not a valid URL",
		"https://" + strings.Repeat("a", MaxURLLength): "at most 2048 characters",
	} {
		_, err := validateURL(raw)
		require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err), raw)
		require.ErrorContains(t, err, msg, raw)
	}
}

func TestNormalizeActions(t *testing.T) {
	t.Parallel()
	got, err := normalizeActions([]event.Action{event.ActionNotify, event.ActionAlert, event.ActionNotify})
	require.NoError(t, err)
	require.Equal(t, []event.Action{event.ActionAlert, event.ActionNotify}, got)
	got, err = normalizeActions(nil)
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = normalizeActions([]event.Action{"*"})
	require.NoError(t, err)
	require.Equal(t, []event.Action{AllActions}, got)

	_, err = normalizeActions([]event.Action{event.ActionNotify, "stream_online"})
	require.ErrorContains(t, err, `unknown action "stream_online"`)
	_, err = normalizeActions([]event.Action{"*", event.ActionNotify})
	require.ErrorContains(t, err, "cannot be combined")

	require.False(t, DefaultActions(event.ActionLog))
	require.False(t, DefaultActions(event.ActionJobProgress))
	require.True(t, DefaultActions(event.ActionAlert))
}

func TestDispatcherIsFair(t *testing.T) {
	t.Parallel()
	d := newDispatcher(2)
	var jobs []job
	for i := range 5 {
		jobs = append(jobs, job{deliveryID: int64(i), endpointID: 1})
	}
	jobs = append(jobs, job{deliveryID: 100, endpointID: 2}, job{deliveryID: 101, endpointID: 2})
	require.True(t, d.push(jobs))

	// Endpoints take turns, and endpoint 1 gets at most 2 slots.
	var order []int64
	for range 4 {
		j, ok := d.next()
		require.True(t, ok)
		order = append(order, j.deliveryID)
	}
	require.Equal(t, []int64{0, 100, 1, 101}, order)
	require.Equal(t, 3, d.len())

	// Endpoint 1 is at its bound: nothing is ready until a slot frees.
	d.done(1)
	j, ok := d.next()
	require.True(t, ok)
	require.Equal(t, int64(2), j.deliveryID)

	left := d.close()
	require.Len(t, left, 2)
	_, ok = d.next()
	require.False(t, ok)
	require.False(t, d.push([]job{{deliveryID: 9, endpointID: 3}}), "a closed dispatcher takes nothing")
}

func TestTracker(t *testing.T) {
	t.Parallel()
	tr := newTracker()
	tr.reserve(1)
	require.False(t, tr.claim(1), "a delivery reserved by an open transaction is not claimable")
	require.True(t, tr.claim(2))
	require.False(t, tr.claim(2))
	tr.release(2)
	require.True(t, tr.claim(2))

	// A reservation whose transaction rolled back is swept after a while;
	// live deliveries stay.
	tr.sweep(time.Now().Add(time.Minute))
	require.True(t, tr.claim(1))
	require.False(t, tr.claim(2))
	require.Equal(t, 2, tr.len())
}

func TestCreateRejectsBadInputAndWritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, testConfig())
	ctx := context.Background()
	for name, p := range map[string]CreateParams{
		"scheme":      {URL: "ftp://example.com"},
		"parse":       {URL: "http://exa mple.com"},
		"secret":      {URL: "http://example.com", Secret: "nope"},
		"action":      {URL: "http://example.com", Actions: []event.Action{"bogus"}},
		"description": {URL: "http://example.com", Description: strings.Repeat("x", MaxDescriptionLength+1)},
	} {
		_, err := b.svc.Create(ctx, p)
		require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err), name)
	}
	list, err := b.svc.List(ctx)
	require.NoError(t, err)
	require.Empty(t, list)

	ep := b.create(t, CreateParams{URL: "http://127.0.0.1:1/hook"})
	bad := "gopher://x"
	_, err = b.svc.Update(ctx, ep.ID, UpdateParams{URL: &bad})
	require.ErrorContains(t, err, "must use http or https")
	require.Equal(t, "http://127.0.0.1:1/hook", b.endpoint(t, ep.ID).URL, "nothing written")
	_, err = b.svc.Update(ctx, 999, UpdateParams{})
	require.Equal(t, dvr.ENOTFOUND, dvr.ErrorCode(err))

	desc := "renamed"
	up, err := b.svc.Update(ctx, ep.ID, UpdateParams{Description: &desc})
	require.NoError(t, err)
	require.Equal(t, "renamed", up.Description)
	require.Empty(t, up.Secret)

	off := false
	up, err = b.svc.Update(ctx, ep.ID, UpdateParams{Enabled: &off})
	require.NoError(t, err)
	require.False(t, up.Enabled)
	require.NotEmpty(t, up.DisabledReason)
	_, err = b.svc.Replay(ctx, 1)
	require.Equal(t, dvr.ENOTFOUND, dvr.ErrorCode(err))
	_, err = b.svc.ReplayFailed(ctx, ep.ID, time.Time{})
	require.Equal(t, dvr.ECONFLICT, dvr.ErrorCode(err), "a disabled endpoint cannot replay")

	neg := int64(-1)
	_, err = b.svc.Rotate(ctx, ep.ID, RotateParams{GraceSeconds: &neg})
	require.ErrorContains(t, err, "grace_seconds")
	_, err = b.svc.Rotate(ctx, ep.ID, RotateParams{Secret: "whsec_short"})
	require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err))
	_, err = b.svc.Rotate(ctx, 999, RotateParams{})
	require.Equal(t, dvr.ENOTFOUND, dvr.ErrorCode(err))

	_, err = b.svc.ListAttempts(ctx, ep.ID, AttemptListParams{Limit: 5000})
	require.ErrorContains(t, err, "limit must be between 1 and 1000")
	_, err = b.svc.ListAttempts(ctx, 999, AttemptListParams{})
	require.Equal(t, dvr.ENOTFOUND, dvr.ErrorCode(err))
}
