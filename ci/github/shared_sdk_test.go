package github

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// The AWS SDK for Go is the consumer the shared files are written for.
// These tests read them with it, from the paths later steps get.

// loadProfile reads one profile from the given files only, the way an SDK
// client of a later step does with AWS_CONFIG_FILE and
// AWS_SHARED_CREDENTIALS_FILE.
func loadProfile(t *testing.T, profile, configFile, credentialsFile string) config.SharedConfig {
	t.Helper()
	cfg, err := config.LoadSharedConfigProfile(context.Background(), profile, func(o *config.LoadSharedConfigOptions) {
		o.ConfigFiles = []string{configFile}
		o.CredentialsFiles = []string{credentialsFile}
	})
	if err != nil {
		t.Fatalf("the SDK cannot load profile %q: %v", profile, err)
	}
	return cfg
}

// TestSharedFilesReadByTheSDK: what the SDK reads from the exported files
// is byte for byte what the provider asked for: the region, the
// credential_process command line with its quotes and spaces, and the
// keys with '/', '+' and '='.
func TestSharedFilesReadByTheSDK(t *testing.T) {
	t.Parallel()
	for _, m := range sharedModes() {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			r := githubtest.New(t, m.opts)
			step := r.Step(githubtest.Main, nil)
			var stdout bytes.Buffer
			sections := []exchange.Section{configSection("a", false), credentialsSection("b"), configSection("b", false)}
			if err := sharedEdge(t, r, m, step, &stdout).Export(context.Background(),
				&exchange.Credentials{Provider: "aws", Sections: sections}); err != nil {
				t.Fatalf("Export: %v", err)
			}
			res := r.Finish(step, stdout.Bytes(), nil)
			res.AssertNoProblems(t)
			cfgFile, credFile := res.Env["AWS_CONFIG_FILE"], res.Env["AWS_SHARED_CREDENTIALS_FILE"]

			a := loadProfile(t, "a", cfgFile, credFile)
			if a.Region != "eu-west-1" || a.CredentialProcess != sharedProcess {
				t.Errorf("profile a: region %q, credential_process %q; want eu-west-1, %q", a.Region, a.CredentialProcess, sharedProcess)
			}
			b := loadProfile(t, "b", cfgFile, credFile)
			got := []string{b.Credentials.AccessKeyID, b.Credentials.SecretAccessKey, b.Credentials.SessionToken}
			if diff := cmp.Diff([]string{sharedKeyID, sharedSecret, sharedToken}, got); diff != "" {
				t.Errorf("profile b's credentials (-want +got):\n%s", diff)
			}
		})
	}
}
