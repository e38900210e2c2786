package app

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/oidc-exchange/oidc-exchange/ci/shell"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/providers"
	"github.com/oidc-exchange/oidc-exchange/providers/gcp"
)

func runGCP(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "gcp", "Exchange the CI token through Workload Identity Federation (optionally impersonating a service account)\n"+
		"and print the token, or an external_account credentials file.\n"+
		"Example: oidc-exchange gcp --workload-identity-provider projects/N/locations/global/workloadIdentityPools/P/providers/X \\\n"+
		"           --service-account deployer@my-project.iam.gserviceaccount.com --format json")
	var tf tokenFlags
	tf.register(fs)
	var c gcp.Config
	var scopes, delegates, expect multiFlag
	var format, tokenFormat, boundary, auditLog, output string
	var timeout time.Duration
	fs.StringVar(&c.WorkloadIdentityProvider, "workload-identity-provider", "", "projects/N/locations/global/workloadIdentityPools/P/providers/X (required)")
	fs.StringVar(&c.ServiceAccount, "service-account", "", "service account email to impersonate (default: direct federation)")
	fs.StringVar(&tf.audience, "audience", "", "audience to request (default https://iam.googleapis.com/<provider>)")
	fs.StringVar(&format, "format", string(shell.FormatJSON), "output format: json, env or external-account")
	fs.StringVar(&tokenFormat, "token-format", string(gcp.TokenFormatAccessToken), "access_token, id_token or none")
	fs.StringVar(&c.AccessTokenLifetime, "access-token-lifetime", "", "impersonated token lifetime, e.g. 3600s")
	fs.Var(&scopes, "access-token-scope", "OAuth scope (repeatable; default cloud-platform)")
	fs.StringVar(&c.AccessTokenSubject, "access-token-subject", "", "user for domain-wide delegation")
	fs.Var(&delegates, "delegate", "service account in the impersonation chain (repeatable)")
	fs.StringVar(&c.IDTokenAudience, "id-token-audience", "", "audience of the ID token (token-format id_token)")
	fs.BoolVar(&c.IDTokenIncludeEmail, "id-token-include-email", false, "include the email in the ID token")
	fs.StringVar(&boundary, "access-boundary", "", "Credential Access Boundary JSON or bucket=…:role=… lines, or @FILE")
	fs.StringVar(&c.ProjectID, "project-id", "", "project id (default from the service account)")
	fs.StringVar(&c.Universe, "universe", "", "universe domain (default googleapis.com)")
	fs.StringVar(&c.STSEndpoint, "sts-endpoint", "", "STS endpoint URL (default https://sts.<universe>)")
	fs.StringVar(&c.IAMCredentialsEndpoint, "iamcredentials-endpoint", "", "IAM Credentials endpoint URL")
	fs.StringVar(&c.OAuth2Endpoint, "oauth2-endpoint", "", "OAuth 2.0 endpoint URL for domain-wide delegation")
	fs.IntVar(&c.RetryMaxAttempts, "retry-max-attempts", gcp.DefaultRetryMaxAttempts, "attempts for transient failures")
	fs.BoolVar(&c.DisableRetry, "disable-retry", false, "never retry")
	fs.Var(&expect, "expect-claim", "claim=pattern the token must match before it is sent (repeatable)")
	fs.StringVar(&auditLog, "audit-log", "", "append the audit record to this file")
	fs.StringVar(&output, "output", "", "write the output to this new file (mode 0600) instead of stdout; use it for external-account")
	fs.DurationVar(&timeout, "timeout", exchange.DefaultRunBudget, "overall time limit of the run")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sf, err := shell.ParseFormat(format)
	if err != nil {
		return err
	}
	if sf == shell.FormatCredentialProcess {
		return exchange.InputError("format", "credential-process is AWS's format; use json, env or external-account")
	}
	if strings.HasPrefix(boundary, "@") {
		b, err := os.ReadFile(boundary[1:])
		if err != nil {
			return exchange.InputError("access-boundary", "reading %s: %v", boundary[1:], err)
		}
		boundary = string(b)
	}
	c.AccessBoundary = strings.TrimSpace(boundary)
	c.TokenFormat = gcp.TokenFormat(tokenFormat)
	c.AccessTokenScopes = scopes
	c.Delegates = delegates
	// Only --format external-account asks for the file; the shell never
	// gets project variables pointing at a file it did not ask for.
	c.CreateCredentialsFile = gcp.Bool(sf == shell.FormatExternalAccount)
	c.ExportEnvironmentVariables = gcp.Bool(true)
	if err := c.Validate(); err != nil {
		return err
	}
	var exporter exchange.Exporter = &shell.Renderer{Format: sf, W: e.stdout}
	if output != "" {
		exporter = &privateFileExporter{path: output, renderer: &shell.Renderer{Format: sf}}
	}
	if sf == shell.FormatEnv {
		exporter = &tokenEnvExporter{next: exporter}
	}
	return runProvider(ctx, e, &tf, expect, timeout, auditLog, providers.GCP, providers.Config{GCP: c}, exporter)
}

// tokenEnvExporter adds the issued access token under the variables gcloud
// (CLOUDSDK_AUTH_ACCESS_TOKEN) and Terraform's Google provider
// (GOOGLE_OAUTH_ACCESS_TOKEN) read, for `eval "$(oidc-exchange gcp --format
// env)"`. The action never exports tokens as variables, like its peer.
type tokenEnvExporter struct{ next exchange.Exporter }

var _ exchange.Exporter = (*tokenEnvExporter)(nil)

func (t *tokenEnvExporter) Export(ctx context.Context, c *exchange.Credentials) error {
	cc := *c
	cc.Env = append([]exchange.Variable(nil), c.Env...)
	for _, o := range c.Outputs {
		if o.Name == gcp.OutputAccessToken || o.Name == gcp.OutputAuthToken {
			cc.Env = append(cc.Env,
				exchange.SecretVariable("CLOUDSDK_AUTH_ACCESS_TOKEN", o.Value),
				exchange.SecretVariable("GOOGLE_OAUTH_ACCESS_TOKEN", o.Value))
		}
	}
	return t.next.Export(ctx, &cc)
}

// privateFileExporter writes the rendered credentials to a new file with
// mode 0600, created only once the exchange succeeded: the file may carry
// the runner's request token, and a failed run must leave nothing behind.
type privateFileExporter struct {
	path     string
	renderer *shell.Renderer
}

var _ exchange.Exporter = (*privateFileExporter)(nil)

func (p *privateFileExporter) Export(_ context.Context, c *exchange.Credentials) error {
	body, err := p.renderer.Render(c)
	if err != nil {
		return err
	}
	// O_EXCL: never over an existing file, nor through a planted symlink.
	f, err := os.OpenFile(p.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return exchange.InputError("output", "%v", err)
	}
	if _, err := f.Write(body); err != nil {
		f.Close()
		os.Remove(p.path)
		return fmt.Errorf("writing %s: %w", p.path, err)
	}
	return f.Close()
}
