package sharedini

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// The AWS SDK for Go is the consumer the shared files are written for.

// loadProfile reads one profile from the given files only, the way an SDK
// client does with AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE.
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

// TestSharedFilesSDKSeesUserProfilesUnchanged: merging into a user's
// file and removing our profile again leaves the SDK reading the user's
// profiles as before.
func TestSharedFilesSDKSeesUserProfilesUnchanged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	orig := filepath.Join(dir, "orig")
	merged := filepath.Join(dir, "merged")
	cleaned := filepath.Join(dir, "cleaned")
	none := filepath.Join(dir, "none")
	out, err := Merge([]byte(userConfig), []exchange.Section{configSection("dev")}, "AWS_CONFIG_FILE", merged)
	if err != nil {
		t.Fatal(err)
	}
	back, _, _, err := Remove(out, []string{"profile dev"})
	if err != nil {
		t.Fatal(err)
	}
	for p, content := range map[string][]byte{orig: []byte(userConfig), merged: out, cleaned: back, none: nil} {
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, profile := range []string{"default", "user"} {
		want := loadProfile(t, profile, orig, none)
		for _, p := range []string{merged, cleaned} {
			if diff := cmp.Diff(want, loadProfile(t, profile, p, none), cmpopts.IgnoreUnexported(config.SharedConfig{})); diff != "" {
				t.Errorf("profile %s in %s (-before +after):\n%s", profile, filepath.Base(p), diff)
			}
		}
	}
	if dev := loadProfile(t, "dev", merged, none); dev.CredentialProcess != sharedProcess {
		t.Errorf("profile dev: credential_process %q", dev.CredentialProcess)
	}
}
