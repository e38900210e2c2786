package upstream

import (
	"errors"
	"strings"
	"testing"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

func TestParseEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		query   QueryRule
		wantErr string // "" means valid
	}{
		{"https", "https://sts.example.com", NoQuery, ""},
		{"https with path", "https://broker.example.com/oauth2/token", NoQuery, ""},
		{"http on 127.0.0.1", "http://127.0.0.1:8080/token", NoQuery, ""},
		{"http on ::1", "http://[::1]:8080", NoQuery, ""},
		{"http on localhost", "http://localhost:8080", NoQuery, ""},
		{"http on a name under .localhost (RFC 6761)", "http://sts.localhost:8080", NoQuery, ""},
		{"http on a look-alike of a .localhost name", "http://sts.localhost.example.com", NoQuery, "plain http is accepted only on loopback"},
		{"query where allowed", "https://broker.example.com/token?tenant=a", QueryAllowed, ""},
		{"plain http elsewhere", "http://sts.example.com", NoQuery, "plain http is accepted only on loopback"},
		{"http on a look-alike host", "http://127.0.0.1.example.com", NoQuery, "plain http is accepted only on loopback"},
		{"other scheme", "ftp://sts.example.com", NoQuery, "unsupported URL scheme"},
		{"no scheme", "sts.example.com", NoQuery, "no host"},
		{"empty", "", NoQuery, "no host"},
		{"userinfo", "https://user:pass@sts.example.com", NoQuery, "user information"},
		{"fragment", "https://sts.example.com/#x", QueryAllowed, "must not have a fragment"},
		{"empty fragment", "https://sts.example.com/#", QueryAllowed, "must not have a fragment"},
		{"query", "https://sts.example.com/?a=b", NoQuery, "must not have a query"},
		{"empty query", "https://sts.example.com/?", NoQuery, "must not have a query"},
		{"not a URL", "https://sts.example.com/%zz", NoQuery, `"https://sts.example.com/%zz" is not a URL`},
		{"not a URL, possibly with a password", "https://u:p%zz@sts.example.com", NoQuery, "sts-endpoint: is not a URL"},
		{"control characters", "https://sts.example.com/\n", NoQuery, "is not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := ParseEndpoint("sts-endpoint", tt.in, tt.query)
			if tt.wantErr == "" {
				if err != nil || u == nil {
					t.Fatalf("ParseEndpoint(%q) = %v, %v; want a URL", tt.in, u, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseEndpoint(%q) = %v, want an error containing %q", tt.in, u, tt.wantErr)
			}
			if !errors.Is(err, exchange.ErrInvalidInput) || !strings.HasPrefix(err.Error(), "sts-endpoint: ") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseEndpoint(%q) = %v, want an input error naming sts-endpoint and containing %q", tt.in, err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "pass") || strings.Contains(err.Error(), "u:p") {
				t.Errorf("ParseEndpoint(%q) = %v: the error shows the URL's password", tt.in, err)
			}
		})
	}
}
