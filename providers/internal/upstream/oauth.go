package upstream

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
	"github.com/oidc-exchange/oidc-exchange/internal/lazyre"
)

// RFC 6749 §5.2 error codes that mean "try again later".
const (
	CodeServerError            = "server_error"
	CodeTemporarilyUnavailable = "temporarily_unavailable"
)

// Limits on what is taken from an error answer.
const (
	// maxDescription bounds an error_description as shown to the user.
	maxDescription = 300
	// maxErrorURI bounds an error_uri.
	maxErrorURI = 300
)

// OAuthError is an error answer of an OAuth 2.0 endpoint (an RFC 8693
// broker, GCP STS, Google's OAuth server): the HTTP status and the RFC 6749
// §5.2 fields. It never holds the raw body, and its Description has been
// sanitized, capped and scrubbed by the caller's scrub function.
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

// Summary is the message to show for e: the description, else the status,
// marked when the body was no OAuth error at all (a proxy's page), which
// tells the user the answer may not come from the endpoint they meant.
func (e *OAuthError) Summary() string {
	if e.Description != "" {
		return e.Description
	}
	s := fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	if e.Code == "" && e.Status >= 400 {
		s += " (not an OAuth error answer)"
	}
	return s
}

// Temporary reports whether repeating the request may succeed: a 408,
// 429 or 5xx status, or the server_error and temporarily_unavailable codes.
func (e *OAuthError) Temporary() bool {
	return httpclient.IsTransientStatus(e.Status) || e.Code == CodeServerError || e.Code == CodeTemporarilyUnavailable
}

// oauthCodeRE accepts error codes of RFC 6749's shape and the vendors'
// variants; anything else in "error" is not trusted as a code.
var oauthCodeRE = lazyre.New(`^[A-Za-z0-9_.:-]{1,64}$`)

// ParseOAuthError builds an *OAuthError from an error answer. HTML pages
// are not parsed at all; JSON bodies in RFC 6749's shape, Octopus's
// {"ErrorMessage", "Errors"} or JFrog's {"errors": [{"message"}]} give a
// code and a description. scrub, when not nil, removes secrets a server
// might echo from the description and the URI before anything keeps them.
func ParseOAuthError(status int, h http.Header, body []byte, scrub func(string) string) *OAuthError {
	if scrub == nil {
		scrub = func(s string) string { return s }
	}
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
	if code, ok := doc.Error.(string); ok && oauthCodeRE().MatchString(code) {
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
	if len(s) > maxErrorURI || !IsVSCHAR(s) || strings.ContainsAny(s, " \"<>\\`") {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return ""
	}
	return s
}

// IsVSCHAR reports whether s is 1*VSCHAR (RFC 6749 Appendix A): printable
// ASCII, %x20-7E, the alphabet of tokens, error codes and error URIs.
func IsVSCHAR(s string) bool {
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
