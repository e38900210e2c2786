package github

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/sharedini/sharedinitest"
)

// The AWS SDK for Go is the consumer the shared files are written for;
// these tests read them with it (sharedinitest.LoadProfile).

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
			sections := []exchange.Section{sharedinitest.ConfigSection("a", false), sharedinitest.CredentialsSection("b", false), sharedinitest.ConfigSection("b", false)}
			if err := sharedEdge(t, r, m, step, &stdout).Export(context.Background(),
				&exchange.Credentials{Provider: "aws", Sections: sections}); err != nil {
				t.Fatalf("Export: %v", err)
			}
			res := r.Finish(step, stdout.Bytes(), nil)
			res.AssertNoProblems(t)
			cfgFile, credFile := res.Env["AWS_CONFIG_FILE"], res.Env["AWS_SHARED_CREDENTIALS_FILE"]

			a := sharedinitest.LoadProfile(t, "a", cfgFile, credFile)
			if a.Region != "eu-west-1" || a.CredentialProcess != sharedinitest.Process {
				t.Errorf("profile a: region %q, credential_process %q; want eu-west-1, %q", a.Region, a.CredentialProcess, sharedinitest.Process)
			}
			b := sharedinitest.LoadProfile(t, "b", cfgFile, credFile)
			got := []string{b.Credentials.AccessKeyID, b.Credentials.SecretAccessKey, b.Credentials.SessionToken}
			if diff := cmp.Diff([]string{sharedinitest.KeyID, sharedinitest.Secret, sharedinitest.Token}, got); diff != "" {
				t.Errorf("profile b's credentials (-want +got):\n%s", diff)
			}
		})
	}
}
