package shell

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// Format selects how a [Renderer] prints credentials.
type Format string

// Formats.
const (
	// FormatEnv prints one "export NAME='value'" line per environment
	// variable, quoted for any POSIX shell. Credential files are not
	// printed; use FormatExternalAccount for them.
	FormatEnv Format = "env"
	// FormatJSON prints one JSON object:
	// {"env":{…},"expiration":"…","outputs":{…},"provider":"…"}.
	// Credential files are not included; use FormatExternalAccount.
	FormatJSON Format = "json"
	// FormatCredentialProcess prints the JSON an AWS SDK reads from a
	// credential_process command. It needs AWS credentials.
	FormatCredentialProcess Format = "credential-process"
	// FormatExternalAccount prints the content of the one credential file
	// the provider issued (GCP's external_account configuration) and
	// nothing else, for
	// oidc-exchange gcp … --format external-account > creds.json.
	// It needs exactly one file in the credentials.
	FormatExternalAccount Format = "external-account"
)

// Formats returns every format, sorted.
func Formats() []Format {
	f := []Format{FormatEnv, FormatJSON, FormatCredentialProcess, FormatExternalAccount}
	slices.Sort(f)
	return f
}

// ParseFormat returns the format named s (case-insensitive). An unknown
// name is an [exchange.ErrInvalidInput] error listing the valid ones.
func ParseFormat(s string) (Format, error) {
	want := Format(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Formats(), want) {
		return want, nil
	}
	return "", fmt.Errorf("unknown format %q, valid formats are %q: %w", s, Formats(), exchange.ErrInvalidInput)
}

// Renderer prints credentials to W in Format. It renders into memory
// first and writes once, so a failure never leaves half a credential set
// for an eval or a credential_process reader to act on.
type Renderer struct {
	// Format selects the output; the zero value is an error.
	Format Format
	// W receives the output, normally standard output.
	W io.Writer
}

var _ exchange.Exporter = (*Renderer)(nil)

// Export implements [exchange.Exporter].
func (r *Renderer) Export(ctx context.Context, c *exchange.Credentials) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.W == nil {
		return errors.New("renderer has no writer")
	}
	b, err := r.Render(c)
	if err != nil {
		return err
	}
	if _, err := r.W.Write(b); err != nil {
		return fmt.Errorf("writing %s output: %w", r.Format, err)
	}
	return nil
}

// Render returns what Export would write.
func (r *Renderer) Render(c *exchange.Credentials) ([]byte, error) {
	if c == nil {
		return nil, errors.New("no credentials to render")
	}
	if err := checkUnique("environment variable", c.Env); err != nil {
		return nil, err
	}
	if err := checkUnique("output", c.Outputs); err != nil {
		return nil, err
	}
	switch r.Format {
	case FormatEnv:
		return renderEnv(c)
	case FormatJSON:
		return renderJSON(c)
	case FormatCredentialProcess:
		return renderCredentialProcess(c)
	case FormatExternalAccount:
		return renderExternalAccount(c)
	default:
		return nil, fmt.Errorf("unknown format %q, valid formats are %q: %w", r.Format, Formats(), exchange.ErrInvalidInput)
	}
}

// checkUnique rejects two variables with one name: a shell would keep the
// last and a JSON object only one, silently.
func checkUnique(kind string, vars []exchange.Variable) error {
	seen := map[string]bool{}
	for _, v := range vars {
		if seen[v.Name] {
			return fmt.Errorf("duplicate %s %q in the provider's credentials", kind, v.Name)
		}
		seen[v.Name] = true
	}
	return nil
}

// validEnvName reports whether name matches ^[A-Za-z_][A-Za-z0-9_]*$,
// what every POSIX shell accepts as a variable name; anything else in an
// export line would be a syntax error or, worse, shell code.
func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z':
		case '0' <= r && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func renderEnv(c *exchange.Credentials) ([]byte, error) {
	var b bytes.Buffer
	for _, v := range c.Env {
		if !validEnvName(v.Name) {
			return nil, fmt.Errorf("environment variable name %q is not a valid shell name", exchange.Sanitize(v.Name))
		}
		value := v.Value.Reveal()
		if strings.ContainsRune(value, 0) {
			// No environment variable can hold a NUL byte.
			return nil, fmt.Errorf("value of %s contains a NUL byte", v.Name)
		}
		fmt.Fprintf(&b, "export %s=%s\n", v.Name, Quote(value))
	}
	return b.Bytes(), nil
}

// Quote wraps s in single quotes for a POSIX shell. Inside single quotes
// nothing is special ($, `, \, newlines included) except the single quote
// itself, which is written as
//
//	'\''
//
// that is: close the quotes, an escaped quote, reopen.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// jsonOutput is FormatJSON's document; fields are in sorted key order and
// maps marshal sorted, so the output is deterministic.
type jsonOutput struct {
	Env        map[string]string `json:"env"`
	Expiration string            `json:"expiration,omitempty"`
	Outputs    map[string]string `json:"outputs"`
	Provider   string            `json:"provider"`
}

func renderJSON(c *exchange.Credentials) ([]byte, error) {
	doc := jsonOutput{
		Env:        reveal(c.Env),
		Expiration: formatExpiry(c.Expiry),
		Outputs:    reveal(c.Outputs),
		Provider:   c.Provider,
	}
	return marshal(doc)
}

// reveal maps variables to their clear-text values: this output is the
// user's own, see the package documentation.
func reveal(vars []exchange.Variable) map[string]string {
	m := make(map[string]string, len(vars))
	for _, v := range vars {
		m[v.Name] = v.Value.Reveal()
	}
	return m
}

// credentialProcessOutput is the credential_process format, version 1
// (AWS SDKs and Tools Reference Guide, "Sourcing credentials with an
// external process"), in the field order AWS documents.
type credentialProcessOutput struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken"`
	Expiration      string `json:"Expiration,omitempty"`
}

func renderCredentialProcess(c *exchange.Credentials) ([]byte, error) {
	env := reveal(c.Env)
	// The session token is required too: oidc-exchange issues only
	// temporary credentials, which AWS rejects without it.
	required := []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
	var missing []string
	for _, name := range required {
		if env[name] == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, exchange.InputError("format", "%s needs AWS credentials, but provider %q issued no %s",
			FormatCredentialProcess, c.Provider, strings.Join(missing, ", "))
	}
	// Without Expiration an SDK caches the credentials forever, so a
	// missing expiry is passed on as absent rather than invented.
	return marshal(credentialProcessOutput{
		Version:         1,
		AccessKeyID:     env["AWS_ACCESS_KEY_ID"],
		SecretAccessKey: env["AWS_SECRET_ACCESS_KEY"],
		SessionToken:    env["AWS_SESSION_TOKEN"],
		Expiration:      formatExpiry(c.Expiry),
	})
}

// renderExternalAccount returns the single credential file's content as
// is: the file is a document its consumer parses (a GCP client library
// reading GOOGLE_APPLICATION_CREDENTIALS), so nothing may precede or
// follow it. The shell's redirection decides where it lands and with
// which mode; see the package documentation.
func renderExternalAccount(c *exchange.Credentials) ([]byte, error) {
	if len(c.Files) != 1 {
		return nil, exchange.InputError("format", "%s prints one credential file, but provider %q issued %d",
			FormatExternalAccount, c.Provider, len(c.Files))
	}
	content := c.Files[0].Content
	if content.IsZero() {
		return nil, fmt.Errorf("the credential file of provider %q is empty", c.Provider)
	}
	return []byte(content.Reveal()), nil
}

func formatExpiry(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// marshal writes indented JSON without HTML escaping, so values read back
// byte for byte and look the same to a person.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding JSON: %w", err)
	}
	return b.Bytes(), nil
}
