package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/lsdvr/lsdvr/internal/dvr"
)

// SecretPrefix starts every endpoint secret.
const SecretPrefix = "whsec_"

// MinSecretBytes is the shortest key a secret may decode to.
const MinSecretBytes = 24

// generatedSecretBytes is the length of the keys GenerateSecret makes.
const generatedSecretBytes = 32

// GenerateSecret returns a new random secret: "whsec_" followed by the
// standard base64 of 32 bytes from crypto/rand.
func GenerateSecret() (string, error) {
	key := make([]byte, generatedSecretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// ValidateSecret checks that s is "whsec_" followed by the standard base64
// of at least 24 bytes, returning an EINVALID error saying what is wrong.
func ValidateSecret(s string) error {
	rest, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return dvr.Errorf(dvr.EINVALID, "secret must start with %q", SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return dvr.Errorf(dvr.EINVALID, "secret must be %q followed by standard base64: %v", SecretPrefix, err)
	}
	if len(key) < MinSecretBytes {
		return dvr.Errorf(dvr.EINVALID, "secret must hold at least %d bytes of key, got %d", MinSecretBytes, len(key))
	}
	return nil
}

// signer signs deliveries for one endpoint, with its previous secret too
// while a rotation's grace period runs.
type signer struct {
	current   *standardwebhooks.Webhook
	previous  *standardwebhooks.Webhook // nil when no grace period runs
	prevUntil time.Time
}

func newSigner(secret, previous string, prevUntil time.Time) (*signer, error) {
	cur, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, fmt.Errorf("load secret: %w", err)
	}
	s := &signer{current: cur}
	if previous != "" && !prevUntil.IsZero() {
		prev, err := standardwebhooks.NewWebhook(previous)
		if err != nil {
			return nil, fmt.Errorf("load previous secret: %w", err)
		}
		s.previous, s.prevUntil = prev, prevUntil
	}
	return s, nil
}

// sign returns the webhook-signature header value for one attempt: the
// signature with the current secret, followed (space-separated) by the one
// with the previous secret while now is before the end of its grace.
func (s *signer) sign(id string, ts time.Time, body []byte, now time.Time) (string, error) {
	sig, err := s.current.Sign(id, ts, body)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	if s.previous != nil && now.Before(s.prevUntil) {
		old, err := s.previous.Sign(id, ts, body)
		if err != nil {
			return "", fmt.Errorf("sign with previous secret: %w", err)
		}
		sig += " " + old
	}
	return sig, nil
}
