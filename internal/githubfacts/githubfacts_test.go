package githubfacts_test

import (
	"strings"
	"testing"

	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
)

func TestClassifyIssuer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		issuer  string
		want    githubfacts.IssuerKind
		wantErr string
	}{
		{issuer: "https://token.actions.githubusercontent.com", want: githubfacts.DotCom},
		{issuer: "https://token.actions.githubusercontent.com/octo-enterprise", want: githubfacts.EnterpriseSlug},
		{issuer: "https://token.actions.octo.ghe.com", want: githubfacts.GHECom},
		{issuer: "https://token.actions.octo.ghe.com/octo", want: githubfacts.GHECom},
		{issuer: "https://ghes.example.com/_services/token", want: githubfacts.GHES},
		{issuer: "https://token.actions.octo.ghe.com/other", wantErr: "path is empty or /octo"},
		{issuer: "https://token.actions.githubusercontent.com/a/b", wantErr: "enterprise slug"},
		{issuer: "https://token.actions.githubusercontent.com/", wantErr: "must not end with a slash"},
		{issuer: "http://token.actions.githubusercontent.com", wantErr: "not a plain https URL"},
		{issuer: "https://ghes.example.com:8443/_services/token", wantErr: "not a plain lower-case DNS name"},
		{issuer: "https://GHES.example.com/_services/token", wantErr: "not a plain lower-case DNS name"},
		{issuer: "https://gitlab.com", wantErr: "not a GitHub Actions issuer"},
		{issuer: "https://token.actions.githubusercontent.com ", wantErr: "whitespace"},
	}
	for _, tt := range tests {
		t.Run(tt.issuer, func(t *testing.T) {
			t.Parallel()
			got, err := githubfacts.ClassifyIssuer(tt.issuer)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || got != githubfacts.NotGitHub {
					t.Fatalf("ClassifyIssuer(%q) = %v, %v; want an error containing %q", tt.issuer, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ClassifyIssuer(%q) = %v, %v; want %v", tt.issuer, got, err, tt.want)
			}
		})
	}
}

func TestClassifyHostPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		hp   string
		want githubfacts.IssuerKind
	}{
		{"token.actions.githubusercontent.com", githubfacts.DotCom},
		{"Token.Actions.GitHubUserContent.com", githubfacts.DotCom},
		{"token.actions.githubusercontent.com/octo-enterprise", githubfacts.EnterpriseSlug},
		{"token.actions.githubusercontent.com/..", githubfacts.NotGitHub},
		{"token.actions.githubusercontent.com/" + strings.Repeat("a", 101), githubfacts.NotGitHub},
		{"token.actions.octo.ghe.com", githubfacts.GHECom},
		{"token.actions.octo.ghe.com/any-slug", githubfacts.GHECom},
		{"token.actions.-octo.ghe.com", githubfacts.NotGitHub},
		{"ghes.example.com/_services/token", githubfacts.GHES},
		{"ghes.example.com:8443/_services/token", githubfacts.GHES},
		{"ghes.example.com:/_services/token", githubfacts.NotGitHub},
		{"ghes.example.com/_services/token/x", githubfacts.NotGitHub},
		{"accounts.google.com", githubfacts.NotGitHub},
		{"", githubfacts.NotGitHub},
	}
	for _, tt := range tests {
		if got := githubfacts.ClassifyHostPath(tt.hp); got != tt.want {
			t.Errorf("ClassifyHostPath(%q) = %v, want %v", tt.hp, got, tt.want)
		}
	}
}

func TestServerIssuer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		origin, hostname, want string
		ok                     bool
	}{
		{"https://github.com", "github.com", githubfacts.DotComIssuer, true},
		{"https://octo.ghe.com", "octo.ghe.com", "https://token.actions.octo.ghe.com", true},
		{"https://ghe.com", "ghe.com", "", false},
		{"https://-x.ghe.com", "-x.ghe.com", "", false},
		{"https://ghes.example.com:8443", "ghes.example.com", "https://ghes.example.com:8443/_services/token", true},
	}
	for _, tt := range tests {
		got, ok := githubfacts.ServerIssuer(tt.origin, tt.hostname)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ServerIssuer(%q, %q) = %q, %v; want %q, %v", tt.origin, tt.hostname, got, ok, tt.want, tt.ok)
		}
	}
}

func TestConditionKeyPrefix(t *testing.T) {
	t.Parallel()
	tests := []struct{ issuer, want string }{
		{"https://token.actions.githubusercontent.com", "token.actions.githubusercontent.com"},
		{"https://token.actions.githubusercontent.com/octo-enterprise", "token.actions.githubusercontent.com/octo-enterprise"},
		{"https://ghes.example.com/_services/token", "ghes.example.com/_services/token"},
		{"http://127.0.0.1:8080", "127.0.0.1:8080"},
		{"token.actions.githubusercontent.com", "token.actions.githubusercontent.com"},
	}
	for _, tt := range tests {
		if got := githubfacts.ConditionKeyPrefix(tt.issuer); got != tt.want {
			t.Errorf("ConditionKeyPrefix(%q) = %q, want %q", tt.issuer, got, tt.want)
		}
	}
}

func TestSubjects(t *testing.T) {
	t.Parallel()
	if got, want := githubfacts.NameSubject("octo-org/octo-repo", githubfacts.EnvironmentContext("prod:eu")),
		"repo:octo-org/octo-repo:environment:prod%3Aeu"; got != want {
		t.Errorf("NameSubject = %q, want %q", got, want)
	}
	if got, want := githubfacts.ImmutableSubject("octo-org", "1", "octo-repo", "2", githubfacts.RefContext("refs/heads/main")),
		"repo:octo-org@1/octo-repo@2:ref:refs/heads/main"; got != want {
		t.Errorf("ImmutableSubject = %q, want %q", got, want)
	}
}

// FuzzClassifyIssuer holds the strict and the lenient readings together:
// whatever the strict one accepts, the lenient one reads as the same kind
// from its condition-key prefix, and neither panics on any input.
func FuzzClassifyIssuer(f *testing.F) {
	for _, s := range []string{
		"https://token.actions.githubusercontent.com", "https://token.actions.githubusercontent.com/e",
		"https://token.actions.x.ghe.com/x", "https://h.example/_services/token", "https://h/_services/token",
		"https://token.actions.githubusercontent.com/%2e%2e", "https://[::1]/_services/token", "http://x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, issuer string) {
		kind, err := githubfacts.ClassifyIssuer(issuer)
		lenient := githubfacts.ClassifyHostPath(githubfacts.ConditionKeyPrefix(issuer))
		if err != nil {
			if kind != githubfacts.NotGitHub {
				t.Fatalf("ClassifyIssuer(%q) = %v with error %v", issuer, kind, err)
			}
			return
		}
		if kind == githubfacts.NotGitHub || lenient != kind {
			t.Fatalf("ClassifyIssuer(%q) = %v, ClassifyHostPath of its prefix = %v", issuer, kind, lenient)
		}
		if !strings.HasPrefix(issuer, "https://") || strings.ContainsAny(issuer, "?#@ \\") {
			t.Fatalf("ClassifyIssuer accepted %q", issuer)
		}
	})
}
