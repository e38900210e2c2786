package broker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

// Limits on what is taken from an answer.
const (
	// maxDescription bounds an error_description as shown to the user.
	maxDescription = 300
	// maxErrorURI bounds an error_uri.
	maxErrorURI = 300
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
	case !isVSCHAR(tok):
		return nil, invalid("access_token has characters outside printable ASCII")
	}
	r.AccessToken = exchange.NewSecret(tok)

	if r.IssuedTokenType, _, err = str("issued_token_type"); err != nil {
		return nil, err
	}
	if t := r.IssuedTokenType; t != "" && (len(t) > maxTokenTypeLength || !schemeURIRE.MatchString(t)) {
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

// isVSCHAR reports whether s is 1*VSCHAR: printable ASCII, %x20-7E.
func isVSCHAR(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// OAuthError is an error answer of the token endpoint: the HTTP status and
// the RFC 6749 §5.2 fields. It never holds the raw body, and its
// Description has been sanitized, capped, and scrubbed of the subject
// token and the client secret in case a broker echoes them.
type OAuthError struct {
	// Status is the HTTP status code.
	Status int
	// Code is the "error" member, e.g. invalid_grant; "" when the body was
	// not an OAuth error (a proxy's HTML page).
	Code string
	// Description is the "error_description" member, or the message of a
	// vendor's own error shape (Octopus's ErrorMessage, JFrog's errors).
	Description string
	// URI is the "error_uri" member when it is an https URL, else "".
	URI string
	// RetryAfter is the server's Retry-After, if any.
	RetryAfter time.Duration
}

func (e *OAuthError) Error() string {
	s := fmt.Sprintf("HTTP %d", e.Status)
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// Temporary reports whether repeating the request may succeed: a 408,
// 429 or 5xx status, or the server_error and temporarily_unavailable codes.
func (e *OAuthError) Temporary() bool {
	return httpclient.IsTransientStatus(e.Status) || e.Code == codeServerError || e.Code == codeTemporarilyUnavailable
}

// oauthCodeRE accepts error codes of RFC 6749's shape and the vendors'
// variants; anything else in "error" is not trusted as a code.
var oauthCodeRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

// parseErrorResponse builds an *OAuthError from an error answer. HTML
// pages are not parsed at all; JSON bodies in RFC 6749's shape, Octopus's
// {"ErrorMessage", "Errors"} or JFrog's {"errors": [{"message"}]} give a
// code and a description.
func parseErrorResponse(status int, h http.Header, body []byte, scrub func(string) string) *OAuthError {
	oe := &OAuthError{Status: status, RetryAfter: httpclient.RetryAfter(h)}
	if mt, _, _ := mime.ParseMediaType(h.Get("Content-Type")); strings.HasPrefix(mt, "text/html") || mt == "application/xhtml+xml" {
		return oe
	}
	var doc struct {
		Error            any `json:"error"`
		ErrorDescription any `json:"error_description"`
		ErrorURI         any `json:"error_uri"`
		ErrorMessage     any `json:"ErrorMessage"`
		Errors           any `json:"Errors"`
		JFrogErrors      any `json:"errors"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return oe
	}
	if code, ok := doc.Error.(string); ok && oauthCodeRE.MatchString(code) {
		oe.Code = code
	}
	desc, _ := doc.ErrorDescription.(string)
	if desc == "" {
		desc, _ = doc.ErrorMessage.(string)
	}
	if desc == "" {
		desc = firstMessage(doc.Errors)
	}
	if desc == "" {
		desc = firstMessage(doc.JFrogErrors)
	}
	oe.Description = exchange.Truncate(exchange.Sanitize(scrub(desc)), maxDescription)
	if uri, ok := doc.ErrorURI.(string); ok {
		oe.URI = safeURI(scrub(uri))
	}
	return oe
}

// firstMessage is the first string, or the first object's "message", of
// a vendor's error list.
func firstMessage(v any) string {
	list, _ := v.([]any)
	for _, e := range list {
		switch v := e.(type) {
		case string:
			return v
		case map[string]any:
			if m, ok := v["message"].(string); ok {
				return m
			}
		}
	}
	return ""
}

// safeURI returns an error_uri worth showing: https, with a host, no
// user information, printable; else "".
func safeURI(s string) string {
	if len(s) > maxErrorURI || !isVSCHAR(s) || strings.ContainsAny(s, " \"<>\\`") {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return ""
	}
	return s
}

// jwtRE finds JWT-shaped strings, which a broker echoing the request
// might put in a description.
var jwtRE = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)

// scrubber returns a function replacing the given secrets, and anything
// shaped like a JWT, with REDACTED.
func scrubber(secrets ...string) func(string) string {
	return func(s string) string {
		for _, v := range secrets {
			if len(v) >= 4 {
				s = strings.ReplaceAll(s, v, exchange.Redacted)
			}
		}
		return jwtRE.ReplaceAllLiteralString(s, exchange.Redacted)
	}
}
