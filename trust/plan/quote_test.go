package plan

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// Hostile strings: what an environment name (spaces, punctuation) or a
// future caller might pass. None may break out of its quoting.
var hostile = []string{
	"", "plain", "a b", "it's", `say "hi"`, "$HOME", "${HOME}", "$(id)", "`id`", `back\slash`, "!bang", "~user",
	"*", "?", "{a,b}", "a;b", "a&b", "a|b", "<in", ">out", "#hash", "tab\there", "new\nline", "'", `"`, `\`,
	`'\''`, `a'b"c$d` + "`e`\\f!g", "%{x}", "${$}", "!=", "a!=!b", "ünïcode", "  lead", "trail  ", "=eq", "--flag", "-",
}

func TestShellQuoteRoundTrip(t *testing.T) {
	t.Parallel()
	var script strings.Builder
	script.WriteString("rec")
	for _, s := range hostile {
		script.WriteString(" " + shellQuote(s))
	}
	script.WriteString("\n")
	calls := runShell(t, script.String(), "rec")
	if len(calls) != 1 {
		t.Fatalf("got %d commands, want 1", len(calls))
	}
	if diff := cmp.Diff(hostile, calls[0].args); diff != "" {
		t.Errorf("shell words after quoting (-want +got):\n%s", diff)
	}
}

func TestShellQuoteForms(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"octo-repo", "octo-repo"},
		{"https://token.actions.githubusercontent.com", "https://token.actions.githubusercontent.com"},
		{"google.subject=assertion.sub,attribute.ref=assertion.ref", "google.subject=assertion.sub,attribute.ref=assertion.ref"},
		{"GitHub Actions", `"GitHub Actions"`},
		{"assertion.repository_id == '1'", `"assertion.repository_id == '1'"`},
		{"a$b", `'a$b'`},
		{`{"a":"b"}`, `'{"a":"b"}'`},
		{"it's $x", `'it'\''s $x'`},
		{"", `""`},
		{"~root", `"~root"`},
		{"a != 'b'", `"a != 'b'"`},
		{"!bang", `'!bang'`},
		{"a !=b!", `'a !=b!'`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := shellQuote(tt.in); got != tt.want {
				t.Errorf("shellQuote(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestCELString(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"production", `'production'`},
		{"o'brien", `'o\'brien'`},
		{`back\slash`, `'back\\slash'`},
		{`say "hi"`, `'say "hi"'`},
		{"new\nline", `'new\nline'`},
		{"\x01", `'\u0001'`},
		{"$x ${y}", `'$x ${y}'`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := celString(tt.in); got != tt.want {
				t.Errorf("celString(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
	for _, s := range hostile {
		got, rest, err := celUnquote(celString(s))
		if err != nil || rest != "" || got != s {
			t.Errorf("celUnquote(celString(%q)) = %q, rest %q, err %v", s, got, rest, err)
		}
	}
}

func TestHCLString(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`say "hi"`, `"say \"hi\""`},
		{"a${b}", `"a$${b}"`},
		{"100%{x}", `"100%%{x}"`},
		{"$x and %y", `"$x and %y"`},
		{`back\slash`, `"back\\slash"`},
		{"new\nline", `"new\nline"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := hclString(tt.in); got != tt.want {
				t.Errorf("hclString(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
	for _, s := range hostile {
		got, err := hclUnquote(hclString(s))
		if err != nil || got != s {
			t.Errorf("hclUnquote(hclString(%q)) = %q, %v", s, got, err)
		}
	}
	if got, want := hclTemplate("a${", "x.y", "/$${z}"), `"a$${${x.y}/$$${z}"`; got != want {
		t.Errorf("hclTemplate = %s, want %s", got, want)
	}
}

func TestAWSLiteral(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"prod", "prod"},
		{"cost $5", "cost $5"},
		{"a${aws:username}", "a${$}{aws:username}"},
		{"${$}", "${$}{$}"},
	}
	for _, tt := range tests {
		if got := awsLiteral(tt.in); got != tt.want {
			t.Errorf("awsLiteral(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMarshalJSONNoHTMLEscape(t *testing.T) {
	t.Parallel()
	got, err := marshalJSON(map[string]string{"sub": "repo:o/r:environment:<a&b>"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"sub":"repo:o/r:environment:<a&b>"}`; got != want {
		t.Errorf("marshalJSON = %s, want %s", got, want)
	}
}

func FuzzLiterals(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip("inputs are validated as UTF-8 first")
		}
		if got, rest, err := celUnquote(celString(s)); err != nil || rest != "" || got != s {
			t.Errorf("CEL round trip of %q: %q, rest %q, %v", s, got, rest, err)
		}
		if got, err := hclUnquote(hclString(s)); err != nil || got != s {
			t.Errorf("HCL round trip of %q: %q, %v", s, got, err)
		}
	})
}

// FuzzEnvironment feeds environment names through a GCP plan: whatever
// Validate accepts must come out of the attribute condition unchanged.
func FuzzEnvironment(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, env string) {
		req := Request{Cloud: GCP, Repository: "o/r", RepositoryID: "2", OwnerID: "1", Environment: env}
		p, err := Build(req)
		if err != nil {
			return
		}
		var desc WorkloadIdentityProvider
		for _, a := range p.Artifacts {
			if d, ok := a.JSON.(WorkloadIdentityProvider); ok {
				desc = d
			}
		}
		clauses, err := parseCELConjunction(desc.AttributeCondition)
		if err != nil {
			t.Fatalf("condition %q: %v", desc.AttributeCondition, err)
		}
		if len(clauses) < 3 || clauses[2] != (celClause{"environment", "==", env}) {
			t.Errorf("environment clause %+v, want %q", clauses, env)
		}
	})
}
