package exchange_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	const raw = "FAKE-secret/with+chars"
	s := exchange.NewSecret(raw)
	v := exchange.SecretVariable("AWS_SECRET_ACCESS_KEY", s)
	type holder struct {
		S exchange.Secret
		V exchange.Variable
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("x", "secret", s, "var", v, "holder", holder{S: s, V: v})
	js, err := json.Marshal(holder{S: s, V: v})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":    fmt.Sprintf("%v", s),
		"%s":    fmt.Sprintf("%s", s), //nolint:staticcheck // S1025: the test is what fmt's %s verb prints, which String() alone would not cover
		"%q":    fmt.Sprintf("%q", s),
		"%+v":   fmt.Sprintf("%+v", holder{S: s}),
		"%#v":   fmt.Sprintf("%#v", s),
		"json":  string(js),
		"slog":  logBuf.String(),
		"error": fmt.Errorf("wrapped: %v", s).Error(),
	}
	for name, out := range outputs {
		if strings.Contains(out, raw) || strings.Contains(out, "FAKE") {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
	}
	if s.Reveal() != raw {
		t.Fatal("Reveal() lost the value")
	}
}

func TestMaskForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{name: "plain", in: "abc", want: []string{"abc"}},
		{name: "empty", in: "", want: nil},
		{name: "whitespace", in: " \n ", want: nil},
		{name: "multi-line", in: "line1\r\n  line2 \n\nline3", want: []string{"line1\r\n  line2 \n\nline3", "line1", "line2", "line3", `line1\r\n  line2 \n\nline3`}},
		{name: "json escapes differ", in: `a<b"c`, want: []string{`a<b"c`, `a\u003cb\"c`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, exchange.MaskForms(exchange.NewSecret(tc.in))); diff != "" {
				t.Errorf("MaskForms (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzMaskForms(f *testing.F) {
	f.Add("abc")
	f.Add("a\nb\r\nc")
	f.Add("<&>\"\\")
	f.Fuzz(func(t *testing.T, v string) {
		forms := exchange.MaskForms(exchange.NewSecret(v))
		if strings.TrimSpace(v) == "" {
			if len(forms) != 0 {
				t.Fatalf("forms for blank value: %q", forms)
			}
			return
		}
		if forms[0] != v {
			t.Fatalf("first form is not the value")
		}
		// Every non-blank line must be covered, since the runner masks
		// line by line.
		for _, line := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' }) {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			found := false
			for _, f := range forms {
				if f == line || (!strings.ContainsAny(v, "\r\n") && f == v) {
					found = true
				}
			}
			if !found {
				t.Fatalf("line %q of %q not in forms %q", line, v, forms)
			}
		}
	})
}

func TestCredentialsSecrets(t *testing.T) {
	t.Parallel()
	c := &exchange.Credentials{
		Env: []exchange.Variable{
			exchange.PlainVariable("AWS_REGION", "eu-west-1"),
			exchange.SecretVariable("AWS_ACCESS_KEY_ID", exchange.NewSecret("FAKE-id")),
			exchange.SecretVariable("AWS_SECRET_ACCESS_KEY", exchange.NewSecret("FAKE-secret")),
		},
		Outputs: []exchange.Variable{
			exchange.SecretVariable("aws-access-key-id", exchange.NewSecret("FAKE-id")),
			exchange.PlainVariable("aws-account-id", "111122223333"),
		},
	}
	var got []string
	for _, s := range c.Secrets() {
		got = append(got, s.Reveal())
	}
	if diff := cmp.Diff([]string{"FAKE-id", "FAKE-secret"}, got); diff != "" {
		t.Errorf("Secrets() (-want +got):\n%s", diff)
	}
}

// TestCredentialsSecretsInSections: the sensitive keys of shared-file
// sections are secrets like any variable, so the pipeline masks them
// before anything is exported; plain keys (a region, a command line)
// are not.
func TestCredentialsSecretsInSections(t *testing.T) {
	t.Parallel()
	c := &exchange.Credentials{
		Env: []exchange.Variable{exchange.SecretVariable("AWS_ACCESS_KEY_ID", exchange.NewSecret("FAKE-id-1"))},
		Sections: []exchange.Section{
			{File: "aws-credentials", PathEnv: "AWS_SHARED_CREDENTIALS_FILE", Name: "a", Keys: []exchange.Variable{
				exchange.SecretVariable("aws_access_key_id", exchange.NewSecret("FAKE-id-1")),
				exchange.SecretVariable("aws_secret_access_key", exchange.NewSecret("FAKE/secret+a=")),
				exchange.SecretVariable("aws_session_token", exchange.NewSecret("FAKE-token-a")),
			}},
			{File: "aws-config", PathEnv: "AWS_CONFIG_FILE", Name: "profile a", Keys: []exchange.Variable{
				exchange.PlainVariable("region", "eu-west-1"),
				exchange.PlainVariable("credential_process", "/usr/bin/oidc-exchange aws"),
			}},
			{File: "aws-credentials", PathEnv: "AWS_SHARED_CREDENTIALS_FILE", Name: "b", Keys: []exchange.Variable{
				exchange.SecretVariable("aws_secret_access_key", exchange.NewSecret("FAKE/secret+b=")),
				exchange.SecretVariable("aws_session_token", exchange.NewSecret("")),
			}},
		},
	}
	var got []string
	for _, s := range c.Secrets() {
		got = append(got, s.Reveal())
	}
	want := []string{"FAKE-id-1", "FAKE/secret+a=", "FAKE-token-a", "FAKE/secret+b="}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Secrets() (-want +got):\n%s", diff)
	}
}

// TestSectionNeverPrints: a section holds secrets, so every way of
// printing it must redact them.
func TestSectionNeverPrints(t *testing.T) {
	t.Parallel()
	const raw = "FAKE/section+secret="
	s := exchange.Section{File: "aws-credentials", PathEnv: "AWS_SHARED_CREDENTIALS_FILE", Name: "dev",
		Keys: []exchange.Variable{exchange.SecretVariable("aws_secret_access_key", exchange.NewSecret(raw))}}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "section", s, "keys", s.Keys)
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), string(js), buf.String()} {
		if strings.Contains(out, raw) || strings.Contains(out, "FAKE") {
			t.Errorf("printed section reveals its secret: %s", out)
		}
	}
}
