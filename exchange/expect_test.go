package exchange_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
)

func TestParseExpectations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    exchange.Expectations
		wantErr bool
	}{
		{name: "empty", in: "", want: nil},
		{name: "comments and blanks", in: "\n# pin the owner\n  \nrepository_owner_id=123456\r\n", want: exchange.Expectations{{Claim: "repository_owner_id", Patterns: []string{"123456"}}}},
		{name: "alternatives for one claim", in: "ref=refs/heads/main\nref=refs/tags/v*\nenvironment=prod", want: exchange.Expectations{
			{Claim: "ref", Patterns: []string{"refs/heads/main", "refs/tags/v*"}},
			{Claim: "environment", Patterns: []string{"prod"}},
		}},
		{name: "pattern containing =", in: "sub=repo:o/r:environment:a=b", want: exchange.Expectations{{Claim: "sub", Patterns: []string{"repo:o/r:environment:a=b"}}}},
		{name: "spaces around =", in: "ref = refs/heads/main", want: exchange.Expectations{{Claim: "ref", Patterns: []string{"refs/heads/main"}}}},
		{name: "no =", in: "ref", wantErr: true},
		{name: "empty pattern", in: "ref=", wantErr: true},
		{name: "bad claim name", in: "re f=x", wantErr: true},
		{name: "claim starting with digit", in: "1ref=x", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := exchange.ParseExpectations(tc.in)
			if tc.wantErr {
				if !errors.Is(err, exchange.ErrInvalidInput) {
					t.Fatalf("error = %v, want ErrInvalidInput", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseExpectations() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExpectationsCheck(t *testing.T) {
	t.Parallel()
	id := exchangetest.Identity(map[string]any{
		"sub": "repo:octo-org/octo-repo:ref:refs/heads/main", "ref": "refs/heads/main",
		"repository_owner_id": "123456", "run_attempt": 1.0,
	}, "raw")
	tests := []struct {
		name   string
		lines  string
		failed []exchange.Mismatch
	}{
		{name: "all match", lines: "ref=refs/heads/main\nrepository_owner_id=123456\nsub=repo:octo-org/*"},
		{name: "alternative matches", lines: "ref=refs/tags/*\nref=refs/heads/main"},
		{name: "mismatch", lines: "ref=refs/heads/release", failed: []exchange.Mismatch{{Claim: "ref", Expected: "refs/heads/release", Actual: "refs/heads/main"}}},
		{name: "absent claim never matches, not even *", lines: "environment=*", failed: []exchange.Mismatch{{Claim: "environment", Expected: "*", Actual: "(absent)"}}},
		{name: "non-string claim", lines: "run_attempt=1", failed: []exchange.Mismatch{{Claim: "run_attempt", Expected: "1", Actual: "(not a string: 1)"}}},
		{name: "every mismatch reported", lines: "ref=x\nrepository_owner_id=9", failed: []exchange.Mismatch{
			{Claim: "ref", Expected: "x", Actual: "refs/heads/main"},
			{Claim: "repository_owner_id", Expected: "9", Actual: "123456"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			es, err := exchange.ParseExpectations(tc.lines)
			if err != nil {
				t.Fatal(err)
			}
			err = es.Check(id)
			if tc.failed == nil {
				if err != nil {
					t.Fatalf("Check() = %v", err)
				}
				return
			}
			var ee *exchange.ExpectationError
			if !errors.As(err, &ee) || !errors.Is(err, exchange.ErrPolicyDenied) {
				t.Fatalf("Check() = %v, want *ExpectationError wrapping ErrPolicyDenied", err)
			}
			if diff := cmp.Diff(tc.failed, ee.Mismatches); diff != "" {
				t.Errorf("mismatches (-want +got):\n%s", diff)
			}
			explain := exchange.Explain(err)
			for _, m := range tc.failed {
				if !strings.Contains(explain, m.Claim) || !strings.Contains(explain, m.Actual) {
					t.Errorf("explanation lacks %q/%q:\n%s", m.Claim, m.Actual, explain)
				}
			}
		})
	}
}

func TestExpectationTableNeutralisesInjection(t *testing.T) {
	t.Parallel()
	id := exchangetest.Identity(map[string]any{"environment": "prod\n::add-mask::x\r\n%0A::error::y"}, "raw")
	es, _ := exchange.ParseExpectations("environment=staging")
	explain := exchange.Explain(es.Check(id))
	for _, line := range strings.Split(explain, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "::") {
			t.Fatalf("explanation has a line that starts a workflow command: %q", line)
		}
	}
}

func TestGlob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{"refs/heads/main", "refs/heads/main", true},
		{"refs/heads/main", "refs/heads/main2", false},
		{"refs/heads/*", "refs/heads/feature/x", true},
		{"refs/heads/*", "refs/heads/", true},
		{"refs/heads/*", "refs/tags/v1", false},
		{"*", "", true},
		{"?", "", false},
		{"v?.*", "v1.2", true},
		{"v?.*", "v12.2", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"*main", "refs/heads/main", true},
		{"[abc]", "a", false},
		{"[abc]", "[abc]", true},
		{"é*", "éclair", true},
	}
	for _, tc := range tests {
		if got := exchange.Glob(tc.pattern, tc.value); got != tc.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tc.pattern, tc.value, got, tc.want)
		}
	}
}

// FuzzGlob checks Glob against an equivalent regular expression.
func FuzzGlob(f *testing.F) {
	f.Add("refs/heads/*", "refs/heads/main")
	f.Add("a*b?c", "aXXbYc")
	f.Add("**", "")
	f.Add("?*?", "ab")
	f.Fuzz(func(t *testing.T, pattern, value string) {
		if !utf8Valid(pattern) || !utf8Valid(value) {
			return
		}
		var re strings.Builder
		re.WriteString(`(?s)^`)
		for _, r := range pattern {
			switch r {
			case '*':
				re.WriteString(`.*`)
			case '?':
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString(`$`)
		want := regexp.MustCompile(re.String()).MatchString(value)
		if got := exchange.Glob(pattern, value); got != want {
			t.Fatalf("Glob(%q, %q) = %v, regexp says %v", pattern, value, got, want)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// FuzzParseExpectations: whatever parses must only yield well-formed
// claims and non-empty patterns, and never panic.
func FuzzParseExpectations(f *testing.F) {
	f.Add("ref=refs/heads/main\n# c\nenvironment=prod")
	f.Add("=x\n")
	f.Add("a=b=c\r\n\r\n")
	f.Fuzz(func(t *testing.T, text string) {
		es, err := exchange.ParseExpectations(text)
		if err != nil {
			return
		}
		for _, e := range es {
			if e.Claim == "" || len(e.Patterns) == 0 {
				t.Fatalf("bad expectation %+v", e)
			}
			for _, p := range e.Patterns {
				if p == "" || strings.ContainsAny(p, "\n") {
					t.Fatalf("bad pattern %q", p)
				}
			}
		}
	})
}
