package notify

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/nicholas-fedor/shoutrrr/pkg/router"
	"github.com/nicholas-fedor/shoutrrr/pkg/types"
)

// CheckURL reports whether raw is a shoutrrr service URL that lsdvr can send
// to, without sending anything. Its error never contains the URL itself,
// which usually holds a token; it names at most the service scheme.
func CheckURL(raw string) error {
	_, err := locate(raw)
	return err
}

// locate builds the service for one URL, with errors safe to show.
func locate(raw string) (types.Service, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("is empty")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return nil, errors.New("is not a service URL such as ntfy://ntfy.sh/topic")
	}
	scheme, _, _ := strings.Cut(u.Scheme, "+")
	var r router.ServiceRouter
	if _, err := r.NewService(scheme); err != nil {
		return nil, fmt.Errorf("names unknown service %q", scheme)
	}
	svc, err := r.Locate(raw)
	if err != nil {
		// shoutrrr's errors may quote the URL, so only the scheme is shown.
		return nil, fmt.Errorf("is not a valid %q service URL", scheme)
	}
	return svc, nil
}
