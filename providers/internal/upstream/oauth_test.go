package upstream

import (
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// scrubFake stands in for a provider's scrubber.
var scrubFake = strings.NewReplacer("fake-secret-value", "REDACTED").Replace

func TestParseOAuthError(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 400)
	tests := []struct {
		name  string
		ct    string
		body  string
		scrub func(string) string
		want  OAuthError
	}{
		{"rfc", "application/json", `{"error":"invalid_grant","error_description":"nope","error_uri":"https://e.example/x"}`, nil,
			OAuthError{Status: 400, Code: "invalid_grant", Description: "nope", URI: "https://e.example/x"}},
		{"rfc with charset", "application/json;charset=UTF-8", `{"error":"invalid_scope"}`, nil, OAuthError{Status: 400, Code: "invalid_scope"}},
		{"text/plain JSON", "text/plain", `{"error":"invalid_request"}`, nil, OAuthError{Status: 400, Code: "invalid_request"}},
		{"html", "text/html", `{"error":"invalid_request"}`, nil, OAuthError{Status: 400}},
		{"google API error object", "application/json", `{"error":{"code":400,"message":"m","status":"INVALID_ARGUMENT"}}`, nil, OAuthError{Status: 400}},
		{"code not a string", "application/json", `{"error":42,"error_description":"d"}`, nil, OAuthError{Status: 400, Description: "d"}},
		{"code with spaces", "application/json", `{"error":"bad code"}`, nil, OAuthError{Status: 400}},
		{"control characters", "application/json", `{"error":"invalid_grant","error_description":"a\n::error::b"}`, nil,
			OAuthError{Status: 400, Code: "invalid_grant", Description: `a\n::error::b`}},
		{"capped", "application/json", `{"error":"invalid_grant","error_description":"` + long + `"}`, nil,
			OAuthError{Status: 400, Code: "invalid_grant", Description: strings.Repeat("x", maxDescription-1) + "…"}},
		{"scrubbed", "application/json", `{"error":"invalid_client","error_description":"secret fake-secret-value"}`, scrubFake,
			OAuthError{Status: 400, Code: "invalid_client", Description: "secret REDACTED"}},
		{"octopus", "application/json", `{"ErrorMessage":"m","Errors":["a"]}`, nil, OAuthError{Status: 400, Description: "m"}},
		{"jfrog", "application/json", `{"errors":[{"code":"C","message":"m"}]}`, nil, OAuthError{Status: 400, Description: "m"}},
		{"error_uri not https", "application/json", `{"error":"invalid_grant","error_uri":"http://e.example/x"}`, nil,
			OAuthError{Status: 400, Code: "invalid_grant"}},
		{"garbage", "application/json", `{"error":`, nil, OAuthError{Status: 400}},
		{"odd vendor members do not hide the code", "application/json", `{"error":"invalid_grant","errors":"x","Errors":{"a":1}}`, nil,
			OAuthError{Status: 400, Code: "invalid_grant"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{"Content-Type": {tt.ct}}
			got := ParseOAuthError(400, h, []byte(tt.body), tt.scrub)
			if diff := cmp.Diff(&tt.want, got); diff != "" {
				t.Errorf("ParseOAuthError (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseOAuthErrorRetryAfter(t *testing.T) {
	t.Parallel()
	got := ParseOAuthError(429, http.Header{"Retry-After": {"7"}}, nil, nil)
	if got.RetryAfter.Seconds() != 7 || !got.Temporary() {
		t.Errorf("ParseOAuthError = %+v, want RetryAfter 7s and temporary", got)
	}
}

func TestOAuthErrorSummary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e    OAuthError
		want string
	}{
		{OAuthError{Status: 400, Code: "invalid_grant", Description: "nope"}, "nope"},
		{OAuthError{Status: 400, Code: "invalid_grant"}, "HTTP 400 Bad Request"},
		{OAuthError{Status: 502}, "HTTP 502 Bad Gateway (not an OAuth error answer)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.e.Summary(); got != tt.want {
				t.Errorf("Summary() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOAuthErrorTemporary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e    OAuthError
		want bool
	}{
		{OAuthError{Status: 503}, true},
		{OAuthError{Status: 429}, true},
		{OAuthError{Status: 408}, true},
		{OAuthError{Status: 400, Code: CodeTemporarilyUnavailable}, true},
		{OAuthError{Status: 400, Code: CodeServerError}, true},
		{OAuthError{Status: 400, Code: "invalid_grant"}, false},
		{OAuthError{Status: 401, Code: "access_denied"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.e.Error(), func(t *testing.T) {
			t.Parallel()
			if got := tt.e.Temporary(); got != tt.want {
				t.Errorf("%v.Temporary() = %v, want %v", tt.e, got, tt.want)
			}
		})
	}
}

// FuzzParseOAuthError checks that an error answer never yields a
// multi-line, over-long or invalid UTF-8 message, or one holding the secret.
func FuzzParseOAuthError(f *testing.F) {
	for _, s := range []string{
		`{"error":"invalid_grant","error_description":"d","error_uri":"https://e.example"}`,
		`{"error":"x y","error_description":"line\nline"}`,
		`{"ErrorMessage":"m","Errors":["a"]}`,
		`{"errors":[{"code":"C","message":"m"}]}`,
		`{"error_description":"fake-secret-value"}`,
		`{"error_description":"` + strings.Repeat("拒", 400) + `"}`,
		`<html>`, ``,
	} {
		f.Add([]byte(s), "application/json")
	}
	f.Add([]byte(`<html></html>`), "text/html")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		oe := ParseOAuthError(400, http.Header{"Content-Type": {contentType}}, body, scrubFake)
		for name, v := range map[string]string{"code": oe.Code, "description": oe.Description, "uri": oe.URI} {
			if strings.ContainsFunc(v, unicode.IsControl) {
				t.Fatalf("%s has control characters: %q", name, v)
			}
			if strings.Contains(v, "fake-secret-value") {
				t.Fatalf("%s holds the secret: %q", name, v)
			}
			if !utf8.ValidString(v) {
				t.Fatalf("%s is not valid UTF-8: %q", name, v)
			}
		}
		if n := utf8.RuneCountInString(oe.Description); n > maxDescription {
			t.Fatalf("description of %d characters", n)
		}
		if oe.Code != "" && !oauthCodeRE().MatchString(oe.Code) {
			t.Fatalf("code %q", oe.Code)
		}
		if oe.URI != "" && !strings.HasPrefix(oe.URI, "https://") {
			t.Fatalf("uri %q", oe.URI)
		}
	})
}
