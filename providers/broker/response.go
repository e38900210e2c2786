package broker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
	"github.com/oidc-exchange/oidc-exchange/providers/internal/upstream"
)

// Limits on what is taken from an answer.
const (
	// maxExpiresIn is ten years: a longer lifetime is a broken answer.
	maxExpiresIn = 10 * 365 * 24 * 3600
)

// tokenResponse is a parsed RFC 8693 §2.2.1 answer.
type tokenResponse struct {
	// AccessToken is the issued token, whatever its type.
	AccessToken exchange.Secret
	// IssuedTokenType is "" when the broker omitted it.
	IssuedTokenType string
	// TokenType is "Bearer", "N_A" or "" (omitted), canonically spelled.
	TokenType string
	// ExpiresIn is the lifetime in seconds; 0 when not given.
	ExpiresIn int64
	// Scope is the granted scope when the broker sent one.
	Scope string
	// refreshToken is parsed so that its presence is no error, and kept
	// as a Secret so it cannot be printed; it is never returned.
	refreshToken exchange.Secret
}

// invalidResponseError is a 2xx answer that is not a usable token answer.
// reason never quotes the token or the body.
type invalidResponseError struct{ reason string }

func (e *invalidResponseError) Error() string { return "invalid token answer: " + e.reason }

func invalid(format string, args ...any) error {
	return &invalidResponseError{reason: fmt.Sprintf(format, args...)}
}

// parseTokenResponse parses a 2xx body. access_token is required and must
// be 1*VSCHAR (RFC 6749 Appendix A.12), so it can be exported safely;
// token_type must be Bearer or N_A (case-insensitive) when present;
// expires_in may be a JSON number or a numeric string (Octopus sends a
// string). Unknown members are ignored.
func parseTokenResponse(body []byte) (*tokenResponse, error) {
	var members map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&members); err != nil || members == nil {
		return nil, invalid("the body is not a JSON object")
	}
	if dec.More() {
		return nil, invalid("the body holds more than one JSON value")
	}
	str := func(name string) (string, bool, error) {
		raw, ok := members[name]
		if !ok || string(raw) == "null" {
			return "", false, nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false, invalid("%s is not a string", name)
		}
		return s, true, nil
	}
	var r tokenResponse
	tok, ok, err := str("access_token")
	switch {
	case err != nil:
		return nil, err
	case !ok || tok == "":
		return nil, invalid("access_token is missing or empty")
	case !upstream.IsVSCHAR(tok):
		return nil, invalid("access_token has characters outside printable ASCII")
	}
	r.AccessToken = exchange.NewSecret(tok)

	if r.IssuedTokenType, _, err = str("issued_token_type"); err != nil {
		return nil, err
	}
	if t := r.IssuedTokenType; t != "" && (len(t) > maxTokenTypeLength || !schemeURIRE().MatchString(t)) {
		return nil, invalid("issued_token_type is not a token type URI")
	}

	tt, present, err := str("token_type")
	if err != nil {
		return nil, err
	}
	switch {
	case !present:
	case strings.EqualFold(tt, "Bearer"):
		r.TokenType = "Bearer"
	case strings.EqualFold(tt, "N_A"):
		r.TokenType = "N_A"
	default:
		// The value is not quoted: nothing of a 2xx body is.
		return nil, invalid("token_type is neither Bearer nor N_A, the only types this client can hand on")
	}

	if r.ExpiresIn, err = parseExpiresIn(members["expires_in"]); err != nil {
		return nil, err
	}
	if r.Scope, _, err = str("scope"); err != nil {
		return nil, err
	}
	refresh, _, err := str("refresh_token")
	if err != nil {
		return nil, err
	}
	r.refreshToken = exchange.NewSecret(refresh)
	return &r, nil
}

// parseExpiresIn accepts a non-negative integral JSON number or a string
// of one; absent or null is 0, which means "not given".
func parseExpiresIn(raw json.RawMessage) (int64, error) {
	if raw == nil || string(raw) == "null" {
		return 0, nil
	}
	text := string(raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		text = strings.TrimSpace(s)
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) {
		return 0, invalid("expires_in is not a whole number of seconds")
	}
	if f < 0 || f > maxExpiresIn {
		return 0, invalid("expires_in is out of range (0 to %d seconds)", maxExpiresIn)
	}
	return int64(f), nil
}

// OAuthError is an error answer of the token endpoint. Its Description
// has been sanitized, capped, and scrubbed of the subject token and the
// client secret in case a broker echoes them.
type OAuthError = upstream.OAuthError

// jwtRE finds JWT-shaped strings, which a broker echoing the request
// might put in a description.
var jwtRE = lazyre.New(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)

// scrubber returns a function replacing the given secrets, and anything
// shaped like a JWT, with REDACTED.
func scrubber(secrets ...string) func(string) string {
	return func(s string) string {
		for _, v := range secrets {
			if len(v) >= 4 {
				s = strings.ReplaceAll(s, v, exchange.Redacted)
			}
		}
		return jwtRE().ReplaceAllLiteralString(s, exchange.Redacted)
	}
}
