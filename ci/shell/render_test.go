package shell

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// awsCredentials is an obviously fake AWS credential set whose values need
// quoting.
func awsCredentials() *exchange.Credentials {
	return &exchange.Credentials{
		Provider: "aws",
		Env: []exchange.Variable{
			exchange.SecretVariable("AWS_ACCESS_KEY_ID", exchange.NewSecret("FAKE-ACCESS-KEY-ID")),
			exchange.SecretVariable("AWS_SECRET_ACCESS_KEY", exchange.NewSecret("FAKE-secret/key+with'quote")),
			exchange.SecretVariable("AWS_SESSION_TOKEN", exchange.NewSecret("FAKE-session-token-$HOME-`id`-<&>")),
			exchange.PlainVariable("AWS_REGION", "eu-west-1"),
		},
		Outputs: []exchange.Variable{
			exchange.PlainVariable("aws-account-id", "123456789012"),
			exchange.SecretVariable("aws-session-token", exchange.NewSecret("FAKE-session-token-$HOME-`id`-<&>")),
		},
		Expiry: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600)),
	}
}

// gcpCredentials has no AWS variables and no expiry.
func gcpCredentials() *exchange.Credentials {
	return &exchange.Credentials{
		Provider: "gcp",
		Env: []exchange.Variable{
			exchange.SecretVariable("CLOUDSDK_AUTH_ACCESS_TOKEN", exchange.NewSecret("FAKE-ya29.access-token")),
		},
	}
}

// externalAccountContent is a fake GCP external_account configuration.
const externalAccountContent = `{
  "type": "external_account",
  "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/gh",
  "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
  "token_url": "https://sts.googleapis.com/v1/token",
  "credential_source": {
    "file": "/var/run/secrets/FAKE/token"
  }
}
`

// gcpFileCredentials is what the GCP provider returns with a credential
// file: a variable and the file.
func gcpFileCredentials() *exchange.Credentials {
	c := gcpCredentials()
	c.Env = append(c.Env, exchange.PlainVariable("GOOGLE_CLOUD_PROJECT", "fake-project"))
	c.Files = []exchange.File{{
		Prefix:      "gha-creds-",
		Ext:         ".json",
		Content:     exchange.NewSecret(externalAccountContent),
		PathEnv:     []string{"GOOGLE_APPLICATION_CREDENTIALS"},
		PathOutputs: []string{"credentials_file_path"},
	}}
	return c
}

// quotingCredentials exercises the shell quoting.
func quotingCredentials() *exchange.Credentials {
	return &exchange.Credentials{
		Provider: "broker",
		Env: []exchange.Variable{
			exchange.PlainVariable("EMPTY", ""),
			exchange.PlainVariable("SINGLE_QUOTES", "it's 'quoted' ''"),
			exchange.PlainVariable("DOLLAR", "$HOME ${PATH} $(id) `id`"),
			exchange.PlainVariable("NEWLINES", "line1\nline2\r\n"),
			exchange.PlainVariable("BACKSLASH", `a\b\\c\'`),
			exchange.PlainVariable("GLOB_AND_SPACE", "* ? [a] ~ # ; & | < > !"),
			exchange.PlainVariable("UNICODE", "FAKE-ключ-🔑"),
		},
	}
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		format Format
		creds  *exchange.Credentials
	}{
		{"env.golden", FormatEnv, awsCredentials()},
		{"json.golden", FormatJSON, awsCredentials()},
		{"credential-process.golden", FormatCredentialProcess, awsCredentials()},
		{"json-gcp.golden", FormatJSON, gcpCredentials()},
		{"env-quoting.golden", FormatEnv, quotingCredentials()},
		{"external-account.golden", FormatExternalAccount, gcpFileCredentials()},
		{"env-gcp-files.golden", FormatEnv, gcpFileCredentials()},
		{"json-gcp-files.golden", FormatJSON, gcpFileCredentials()},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			r := &Renderer{Format: tt.format, W: &buf}
			if err := r.Export(context.Background(), tt.creds); err != nil {
				t.Fatal(err)
			}
			exchangetest.Golden(t, tt.golden, buf.String(), *update)
		})
	}
}

func TestRenderJSONRoundTrip(t *testing.T) {
	t.Parallel()
	b, err := (&Renderer{Format: FormatJSON}).Render(awsCredentials())
	if err != nil {
		t.Fatal(err)
	}
	var got jsonOutput
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := jsonOutput{
		Env: map[string]string{
			"AWS_ACCESS_KEY_ID":     "FAKE-ACCESS-KEY-ID",
			"AWS_SECRET_ACCESS_KEY": "FAKE-secret/key+with'quote",
			"AWS_SESSION_TOKEN":     "FAKE-session-token-$HOME-`id`-<&>",
			"AWS_REGION":            "eu-west-1",
		},
		Expiration: "2026-01-02T02:04:05Z",
		Outputs: map[string]string{
			"aws-account-id":    "123456789012",
			"aws-session-token": "FAKE-session-token-$HOME-`id`-<&>",
		},
		Provider: "aws",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded JSON mismatch (-want +got):\n%s", diff)
	}
}

// TestRenderExternalAccount: the output is the file's content, byte for
// byte, and nothing else.
func TestRenderExternalAccount(t *testing.T) {
	t.Parallel()
	for name, content := range map[string]string{
		"json":               externalAccountContent,
		"no trailing LF":     strings.TrimSuffix(externalAccountContent, "\n"),
		"not JSON, verbatim": "FAKE-opaque-content",
	} {
		c := gcpFileCredentials()
		c.Files[0].Content = exchange.NewSecret(content)
		b, err := (&Renderer{Format: FormatExternalAccount}).Render(c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(b) != content {
			t.Errorf("%s: rendered %q, want the content %q", name, b, content)
		}
	}
}

func TestRenderCredentialProcess(t *testing.T) {
	t.Parallel()
	b, err := (&Renderer{Format: FormatCredentialProcess}).Render(awsCredentials())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Version":         float64(1),
		"AccessKeyId":     "FAKE-ACCESS-KEY-ID",
		"SecretAccessKey": "FAKE-secret/key+with'quote",
		"SessionToken":    "FAKE-session-token-$HOME-`id`-<&>",
		"Expiration":      "2026-01-02T02:04:05Z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("credential_process JSON mismatch (-want +got):\n%s", diff)
	}

	noExpiry := awsCredentials()
	noExpiry.Expiry = time.Time{}
	b, err = (&Renderer{Format: FormatCredentialProcess}).Render(noExpiry)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("Expiration")) {
		t.Errorf("invented an expiration: %s", b)
	}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	dup := awsCredentials()
	dup.Env = append(dup.Env, exchange.PlainVariable("AWS_REGION", "us-east-1"))
	dupOut := awsCredentials()
	dupOut.Outputs = append(dupOut.Outputs, exchange.PlainVariable("aws-account-id", "1"))
	noToken := awsCredentials()
	noToken.Env = noToken.Env[:2]
	twoFiles := gcpFileCredentials()
	twoFiles.Files = append(twoFiles.Files, twoFiles.Files[0])
	emptyFile := gcpFileCredentials()
	emptyFile.Files[0].Content = exchange.Secret{}
	tests := []struct {
		name      string
		format    Format
		creds     *exchange.Credentials
		wantInput bool
		wantText  string
	}{
		{"credential-process for gcp", FormatCredentialProcess, gcpCredentials(), true, "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN"},
		{"credential-process without session token", FormatCredentialProcess, noToken, true, "AWS_SESSION_TOKEN"},
		{"external-account without a file", FormatExternalAccount, awsCredentials(), true, `provider "aws" issued 0`},
		{"external-account with two files", FormatExternalAccount, twoFiles, true, "issued 2"},
		{"external-account with an empty file", FormatExternalAccount, emptyFile, false, "empty"},
		{"unknown format", Format("yaml"), awsCredentials(), true, `valid formats are ["credential-process" "env" "external-account" "json"]`},
		{"invalid shell name", FormatEnv, &exchange.Credentials{Env: []exchange.Variable{exchange.PlainVariable("A-B", "x")}}, false, "not a valid shell name"},
		{"name with injection", FormatEnv, &exchange.Credentials{Env: []exchange.Variable{exchange.PlainVariable("X=1;id;Y", "x")}}, false, "not a valid shell name"},
		{"leading digit", FormatEnv, &exchange.Credentials{Env: []exchange.Variable{exchange.PlainVariable("1A", "x")}}, false, "not a valid shell name"},
		{"NUL in value", FormatEnv, &exchange.Credentials{Env: []exchange.Variable{exchange.PlainVariable("A", "x\x00y")}}, false, "NUL"},
		{"duplicate env", FormatJSON, dup, false, `duplicate environment variable "AWS_REGION"`},
		{"duplicate output", FormatJSON, dupOut, false, `duplicate output "aws-account-id"`},
		{"nil credentials", FormatJSON, nil, false, "no credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := &countingWriter{}
			err := (&Renderer{Format: tt.format, W: w}).Export(context.Background(), tt.creds)
			if err == nil {
				t.Fatal("Export succeeded")
			}
			if got := errors.Is(err, exchange.ErrInvalidInput); got != tt.wantInput {
				t.Errorf("errors.Is(%v, ErrInvalidInput) = %v, want %v", err, got, tt.wantInput)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not mention %q", err, tt.wantText)
			}
			if w.writes != 0 {
				t.Errorf("%d writes after an error; nothing may be half-written", w.writes)
			}
			for _, v := range []string{"FAKE-secret", "FAKE-session-token", "external_account"} {
				if strings.Contains(err.Error(), v) {
					t.Errorf("error reveals a secret: %q", err)
				}
			}
		})
	}
}

// countingWriter counts Write calls and can fail them.
type countingWriter struct {
	bytes.Buffer
	writes int
	err    error
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.err != nil {
		return 0, w.err
	}
	return w.Buffer.Write(p)
}

func TestExportWritesOnce(t *testing.T) {
	t.Parallel()
	for _, f := range Formats() {
		w := &countingWriter{}
		c := awsCredentials()
		if f == FormatExternalAccount {
			c = gcpFileCredentials()
		}
		if err := (&Renderer{Format: f, W: w}).Export(context.Background(), c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if w.writes != 1 {
			t.Errorf("%s: %d writes, want 1", f, w.writes)
		}
	}
}

func TestExportFailures(t *testing.T) {
	t.Parallel()
	errBroken := errors.New("broken pipe")
	err := (&Renderer{Format: FormatEnv, W: &countingWriter{err: errBroken}}).Export(context.Background(), awsCredentials())
	if !errors.Is(err, errBroken) {
		t.Errorf("write error = %v, want it wrapped", err)
	}
	if err := (&Renderer{Format: FormatEnv}).Export(context.Background(), awsCredentials()); err == nil {
		t.Error("nil writer accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := &countingWriter{}
	if err := (&Renderer{Format: FormatEnv, W: w}).Export(ctx, awsCredentials()); !errors.Is(err, context.Canceled) || w.writes != 0 {
		t.Errorf("cancelled export: %v, %d writes", err, w.writes)
	}
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Format{
		"env":                  FormatEnv,
		"JSON":                 FormatJSON,
		" credential-process ": FormatCredentialProcess, //nolint:gocritic // the spaces are deliberate: ParseFormat must trim them
		"External-Account":     FormatExternalAccount,
	} {
		got, err := ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "dotenv", "credential_process"} {
		_, err := ParseFormat(in)
		if !errors.Is(err, exchange.ErrInvalidInput) || !strings.Contains(err.Error(), `valid formats are ["credential-process" "env" "external-account" "json"]`) {
			t.Errorf("ParseFormat(%q) error = %v", in, err)
		}
	}
}

// TestEnvThroughShell evaluates the env output in a real POSIX shell, the
// ultimate judge of the quoting.
func TestEnvThroughShell(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	creds := quotingCredentials()
	script, err := (&Renderer{Format: FormatEnv}).Render(creds)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range creds.Env {
		cmd := exec.CommandContext(t.Context(), sh, "-c", `eval "$(cat)"; printf %s "$`+v.Name+`"`)
		cmd.Env = []string{"HOME=/nonexistent", "PATH=" + os.Getenv("PATH")}
		cmd.Stdin = bytes.NewReader(script)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if got := string(out); got != v.Value.Reveal() {
			t.Errorf("%s through sh = %q, want %q", v.Name, got, v.Value.Reveal())
		}
	}
}

// FuzzQuote checks that quote's output reads back as the original value
// under POSIX quoting rules, without running a shell per input.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "plain", "it's", "''", `'\''`, "$HOME", "`id`", "a\nb", `\`, "'", "\x00", "🔑"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := Quote(s)
		got, err := unquotePOSIX(q)
		if err != nil {
			t.Fatalf("Quote(%q) = %q does not parse: %v", s, q, err)
		}
		if got != s {
			t.Fatalf("Quote(%q) = %q reads back as %q", s, q, got)
		}
		// Every unquoted character is an escaped quote, so the shell
		// never sees an expansion, a glob or a word break.
		for i, inQuotes := 0, false; i < len(q); i++ {
			switch {
			case q[i] == '\'':
				inQuotes = !inQuotes
			case !inQuotes && q[i] == '\\' && i+1 < len(q) && q[i+1] == '\'':
				i++
			case !inQuotes:
				t.Fatalf("Quote(%q) = %q has unquoted %q at %d", s, q, q[i], i)
			}
		}
	})
}

// unquotePOSIX reads one shell word made of single-quoted strings and
// backslash-escaped characters, the only constructs quote emits, and
// rejects anything a shell would expand or split.
func unquotePOSIX(word string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(word); i++ {
		switch c := word[i]; c {
		case '\'':
			end := strings.IndexByte(word[i+1:], '\'')
			if end < 0 {
				return "", errors.New("unterminated single quote")
			}
			b.WriteString(word[i+1 : i+1+end])
			i += end + 1
		case '\\':
			if i+1 == len(word) {
				return "", errors.New("trailing backslash")
			}
			b.WriteByte(word[i+1])
			i++
		default:
			return "", errors.New("unquoted character " + string(c))
		}
	}
	return b.String(), nil
}

func TestUnquotePOSIX(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{`'a'`: "a", `'a'\''b'`: "a'b", `''`: "", `\'`: "'"} {
		if got, err := unquotePOSIX(in); err != nil || got != want {
			t.Errorf("unquotePOSIX(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`'a`, `a`, `'a'$b`, `\`} {
		if _, err := unquotePOSIX(in); err == nil {
			t.Errorf("unquotePOSIX(%q) accepted", in)
		}
	}
}
