package broker

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/providers/broker/brokerfake"
	"github.com/oidc-exchange/oidc-exchange/providers/internal/upstream"
)

// TestErrorCodes checks each code's kind, hint and explanation, and that
// classification is by code before status.
func TestErrorCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		failure     brokerfake.Failure
		wantKind    error
		wantCode    string
		wantHint    string // a substring
		wantDenial  bool   // claims table and parameters in Details
		wantMessage string
	}{
		{"invalid_request", brokerfake.Failure{Code: "invalid_request", Description: "missing connector_id"},
			exchange.ErrProviderRejected, "invalid_request", "broker-extra-params", false, "missing connector_id"},
		{"invalid_client", brokerfake.Failure{Code: "invalid_client"},
			exchange.ErrProviderRejected, "invalid_client", "broker-client-auth", false, "HTTP 401 Unauthorized"},
		{"invalid_grant", brokerfake.Failure{Code: "invalid_grant", Description: "claim ref does not match"},
			exchange.ErrProviderDenied, "invalid_grant", "does not admit the token", true, "claim ref does not match"},
		{"unauthorized_client", brokerfake.Failure{Code: "unauthorized_client"},
			exchange.ErrProviderDenied, "unauthorized_client", "token-exchange grant", true, "HTTP 400 Bad Request"},
		{"unsupported_grant_type", brokerfake.Failure{Code: "unsupported_grant_type"},
			exchange.ErrProviderRejected, "unsupported_grant_type", "does not support RFC 8693", false, ""},
		{"invalid_scope", brokerfake.Failure{Code: "invalid_scope"},
			exchange.ErrProviderRejected, "invalid_scope", "broker-scope", false, ""},
		{"invalid_target", brokerfake.Failure{Code: "invalid_target", Description: "unknown audience"},
			exchange.ErrProviderDenied, "invalid_target", "broker-audience", true, "unknown audience"},
		{"access_denied", brokerfake.Failure{Code: "access_denied"},
			exchange.ErrProviderDenied, "access_denied", "policy does not admit", true, ""},
		{"Dex's 401 access_denied is a denial, not a client failure", brokerfake.Failure{Status: 401, Code: "access_denied", Description: "no sub"},
			exchange.ErrProviderDenied, "access_denied", "Dex", true, "no sub"},
		{"request_not_supported", brokerfake.Failure{Code: "request_not_supported"},
			exchange.ErrProviderRejected, "request_not_supported", TokenTypeIDToken, false, ""},
		{"unknown code with 400", brokerfake.Failure{Code: "weird_error"},
			exchange.ErrProviderRejected, "weird_error", "rejected the request", false, ""},
		{"unknown code with 403", brokerfake.Failure{Status: 403, Code: "forbidden"},
			exchange.ErrProviderDenied, "forbidden", "refused the exchange", true, ""},
		{"HTML 400 page", brokerfake.Failure{Status: 400, RawBody: "<html><body>Bad Request</body></html>"},
			exchange.ErrProviderRejected, "", "rejected the request", false, "HTTP 400 Bad Request (not an OAuth error answer)"},
		{"HTML 502 page, retried", brokerfake.Failure{Status: 502, RawBody: "<html>Bad Gateway</html>"},
			exchange.ErrProviderUnavailable, "", "HTTP 502", false, "HTTP 502 Bad Gateway (not an OAuth error answer)"},
		{"Octopus error shape", brokerfake.Failure{Status: 400, RawBody: `{"ErrorMessage":"No service account matches","Errors":["No service account matches"]}`, ContentType: "application/json"},
			exchange.ErrProviderRejected, "", "rejected the request", false, "No service account matches"},
		{"JFrog error shape", brokerfake.Failure{Status: 401, RawBody: `{"errors":[{"code":"UNAUTHORIZED","message":"Failed to validate token"}]}`, ContentType: "application/json"},
			exchange.ErrProviderDenied, "", "refused the exchange", true, "Failed to validate token"},
		{"redirect", brokerfake.Failure{Status: 302, RawBody: "moved"},
			exchange.ErrProviderRejected, codeRedirect, "final token endpoint", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, nil)
			cfg := e.config()
			cfg.Resources = []string{"https://api.example.com"}
			cfg.Scope = "deploy"
			p := e.provider(t, cfg)
			// A 502 is retried; the queue answers every attempt the same.
			e.fake.FailNext(tt.failure, tt.failure, tt.failure)
			id, _ := e.identity()
			_, err := p.Exchange(t.Context(), id, e.request())
			if !errors.Is(err, tt.wantKind) {
				t.Fatalf("Exchange() = %v, want %v", err, tt.wantKind)
			}
			var pe *exchange.ProviderError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a ProviderError", err)
			}
			if pe.Code != tt.wantCode {
				t.Errorf("Code = %q, want %q", pe.Code, tt.wantCode)
			}
			if !strings.Contains(pe.Hint, tt.wantHint) {
				t.Errorf("Hint = %q, want it to contain %q", pe.Hint, tt.wantHint)
			}
			if tt.wantMessage != "" && pe.Message != tt.wantMessage {
				t.Errorf("Message = %q, want %q", pe.Message, tt.wantMessage)
			}
			explain := exchange.Explain(err)
			hasDenial := strings.Contains(explain, "repository_owner_id") && strings.Contains(explain, "https://api.example.com")
			if hasDenial != tt.wantDenial {
				t.Errorf("claims and parameters in the explanation: %v, want %v:\n%s", hasDenial, tt.wantDenial, explain)
			}
			if !strings.HasPrefix(err.Error(), "exchanging the token at "+e.srv.URL+brokerfake.TokenPath+": broker") {
				t.Errorf("Error() = %q, want it to name the endpoint", err.Error())
			}
			if strings.Contains(err.Error(), "html") || strings.Contains(err.Error(), "Bad Gateway</") {
				t.Errorf("Error() quotes the body: %q", err.Error())
			}
		})
	}
}

// TestErrorTable checks that every code of the table has a kind and a
// hint, and that the table covers the codes the brief lists.
func TestErrorTable(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type",
		"invalid_scope", "invalid_target", "access_denied", "request_not_supported"} {
		info, ok := errorCodes[code]
		if !ok || info.kind == nil || info.hint == "" || info.temporary {
			t.Errorf("%s: %+v, want a permanent kind and a hint", code, info)
		}
	}
	for code, info := range errorCodes {
		if info.denial && !errors.Is(info.kind, exchange.ErrProviderDenied) {
			t.Errorf("%s: denial details on a %v", code, info.kind)
		}
	}
}

func TestExpiredTokenDenial(t *testing.T) {
	t.Parallel()
	// What brokers answer for a subject token that expired in transit.
	tests := []struct {
		broker string
		answer brokerfake.Failure
	}{
		{"Dex", brokerfake.Failure{Status: 401, Code: "access_denied", Description: "token expired"}},
		{"zitadel", brokerfake.Failure{Status: 400, Code: "invalid_request", Description: "subject_token is invalid"}},
		{"RFC 8693", brokerfake.Failure{Status: 400, Code: "invalid_grant"}},
	}
	for _, tt := range tests {
		t.Run(tt.broker, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, nil)
			p := e.provider(t, e.config())
			// The token expired a minute before the broker answered.
			p.now = func() time.Time { return e.now.Add(6 * time.Minute) }
			e.fake.FailNext(tt.answer)
			id, _ := e.identity()
			_, err := p.Exchange(t.Context(), id, e.request())
			if !errors.Is(err, exchange.ErrTokenExpired) || errors.Is(err, exchange.ErrProviderDenied) || errors.Is(err, exchange.ErrProviderRejected) {
				t.Fatalf("Exchange() = %v, want ErrTokenExpired only", err)
			}
		})
	}
}

func TestErrorURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		uri  string
		want string
	}{
		{"https://broker.example/docs/errors#invalid_grant", "https://broker.example/docs/errors#invalid_grant"},
		{"http://broker.example/docs", ""},
		{"javascript:alert(1)", ""},
		{"https://user:pw@broker.example/", ""},
		{"https://broker.example/\n::error::x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			t.Parallel()
			b := newRawBroker(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				reply(w, 400, fmt.Sprintf(`{"error":"invalid_grant","error_uri":%q}`, tt.uri))
			})
			p := newProvider(t, Config{URL: b.srv.URL})
			_, err := p.Exchange(t.Context(), fakeIdentity("fake.subject.token"), &exchange.Request{})
			var oe *OAuthError
			if !errors.As(err, &oe) {
				t.Fatalf("Exchange() = %v, want an OAuthError inside", err)
			}
			if oe.URI != tt.want {
				t.Errorf("URI = %q, want %q", oe.URI, tt.want)
			}
			if has := strings.Contains(exchange.Explain(err), "The broker's explanation: "+tt.want); has != (tt.want != "") {
				t.Errorf("Explain() shows the URI: %v, want %v:\n%s", has, tt.want != "", exchange.Explain(err))
			}
		})
	}
}

// TestErrorAnswerScrubbed: the broker's scrubber removes the secrets it
// sent, and anything shaped like a JWT, before the description is kept.
func TestErrorAnswerScrubbed(t *testing.T) {
	t.Parallel()
	body := `{"error":"invalid_client","error_description":"secret fake-secret-value and eyJhbGciOi.eyJzdWIiOi.c2ln","error_uri":"https://e.example/fake-secret-value"}`
	got := upstream.ParseOAuthError(400, http.Header{"Content-Type": {"application/json"}}, []byte(body), scrubber("fake-secret-value"))
	want := &OAuthError{Status: 400, Code: "invalid_client", Description: "secret REDACTED and REDACTED", URI: "https://e.example/REDACTED"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseOAuthError (-want +got):\n%s", diff)
	}
}
