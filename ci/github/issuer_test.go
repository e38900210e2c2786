package github

import (
	"errors"
	"testing"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
)

func TestDefaultIssuer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		server, slug string
		want         string
		wantErr      bool
	}{
		{server: "", want: githubfacts.DotComIssuer},
		{server: "https://github.com", want: githubfacts.DotComIssuer},
		{server: "https://github.com/", want: githubfacts.DotComIssuer},
		{server: "https://GitHub.com", want: githubfacts.DotComIssuer},
		{server: "https://github.com", slug: "avocado-corp", want: githubfacts.DotComIssuer + "/avocado-corp"},
		{server: "", slug: "Avocado-Corp-2", want: githubfacts.DotComIssuer + "/Avocado-Corp-2"},
		{server: "https://octocorp.ghe.com", want: "https://token.actions.octocorp.ghe.com"},
		{server: "https://OctoCorp.GHE.com", slug: "octocorp", want: "https://token.actions.octocorp.ghe.com/octocorp"},
		{server: "https://ghes.example.com", want: "https://ghes.example.com/_services/token"},
		{server: "https://ghes.example.com:8443", want: "https://ghes.example.com:8443/_services/token"},
		{server: "https://ghes.example.com", slug: "ent", want: "https://ghes.example.com/_services/token/ent"},
		{server: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080/_services/token"},
		{server: "http://[::1]:8080", want: "http://[::1]:8080/_services/token"},
		{server: "http://localhost", want: "http://localhost/_services/token"},

		{server: "http://ghes.example.com", wantErr: true},
		{server: "http://github.com", wantErr: true},
		{server: "ftp://ghes.example.com", wantErr: true},
		{server: "ghes.example.com", wantErr: true},
		{server: "https://user:pass@ghes.example.com", wantErr: true},
		{server: "https://ghes.example.com/path", wantErr: true},
		{server: "https://ghes.example.com?x=1", wantErr: true},
		{server: "https://ghes.example.com#frag", wantErr: true},
		{server: "https://ghe.com", wantErr: true},
		{server: "https://a.b.ghe.com", wantErr: true},
		{server: "https://-bad.ghe.com", wantErr: true},
		{server: "https://exa_mple.com", wantErr: true},
		{server: "https://%zz", wantErr: true},
		{server: "https://github.com", slug: "a/b", wantErr: true},
		{server: "https://github.com", slug: "..", wantErr: true},
		{server: "https://github.com", slug: "a b", wantErr: true},
		{server: "https://github.com", slug: "a\n", wantErr: true},
		{server: "https://github.com", slug: "%2e", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.server+"|"+tc.slug, func(t *testing.T) {
			t.Parallel()
			got, err := DefaultIssuer(tc.server, tc.slug)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("DefaultIssuer(%q, %q) = %q, want an error", tc.server, tc.slug, got)
				}
				if !errors.Is(err, exchange.ErrInvalidInput) {
					t.Errorf("err = %v, want ErrInvalidInput", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DefaultIssuer(%q, %q): %v", tc.server, tc.slug, err)
			}
			if got != tc.want {
				t.Errorf("DefaultIssuer(%q, %q) = %q, want %q", tc.server, tc.slug, got, tc.want)
			}
			if err := exchange.ValidateIssuer(got); err != nil {
				t.Errorf("the verifier refuses %q: %v", got, err)
			}
		})
	}
}
