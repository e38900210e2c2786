package app

import (
	"context"
	"fmt"
	"os"

	"github.com/oidc-exchange/oidc-exchange/ci/shell"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/providers"
	"github.com/oidc-exchange/oidc-exchange/providers/gcp"
)

func runGCP(ctx context.Context, e *env, args []string) error {
	c := newProviderCommand(e, providers.GCP, "Exchange the CI token through Workload Identity Federation (optionally impersonating a service account)\n"+
		"and print the token, or an external_account credentials file.\n"+
		"Example: oidc-exchange gcp --workload-identity-provider projects/N/locations/global/workloadIdentityPools/P/providers/X \\\n"+
		"           --service-account deployer@my-project.iam.gserviceaccount.com --format json",
		shell.FormatJSON, "json, env or external-account")
	output := c.fs.String("output", "", "write the output to this new file (mode 0600) instead of stdout; use it for external-account")
	if err := parseFlags(c.fs, args); err != nil {
		return err
	}
	sf, err := shell.ParseFormat(c.format)
	if err != nil {
		return err
	}
	if sf == shell.FormatCredentialProcess {
		return exchange.InputError("format", "credential-process is AWS's format; use json, env or external-account")
	}
	var exporter exchange.Exporter = &shell.Renderer{Format: sf, W: e.stdout}
	if *output != "" {
		exporter = &privateFileExporter{path: *output, renderer: &shell.Renderer{Format: sf}}
	}
	if sf == shell.FormatEnv {
		exporter = &tokenEnvExporter{next: exporter}
	}
	return c.run(ctx, func(cfg *providers.Config) {
		// Only --format external-account asks for the file; the shell
		// never gets project variables pointing at a file it did not ask
		// for. These two inputs have no flags: the format decides.
		cfg.GCP.CreateCredentialsFile = new(sf == shell.FormatExternalAccount)
		cfg.GCP.ExportEnvironmentVariables = new(true)
	}, exporter)
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
