package app

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/lsdvr/lsdvr/internal/config"
	"github.com/lsdvr/lsdvr/internal/dvr"
)

// bearerAuth checks the API token (server.token) on every API request and
// websocket upgrade. The token is read on each request, so a change through
// PUT /api/v1/config applies at once. Browsers cannot set headers on a
// websocket, so the upgrade also accepts ?token=.
func bearerAuth(cfg *config.Config) func(*http.Request) error {
	return func(r *http.Request) error {
		want := cfg.Settings().Server.Token
		if want == "" {
			return nil
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			got = r.URL.Query().Get("token")
		}
		if got == "" {
			return dvr.Errorf(dvr.EUNAUTHORIZED, "this server requires a token: send Authorization: Bearer TOKEN")
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return dvr.Errorf(dvr.EUNAUTHORIZED, "the token is wrong")
		}
		return nil
	}
}
