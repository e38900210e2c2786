package sharedini

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/sharedini/sharedinitest"
)

// The AWS SDK for Go is the consumer the shared files are written for;
// these tests read them with it (sharedinitest.LoadProfile).

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
	out, err := Merge([]byte(sharedinitest.UserConfig), []exchange.Section{sharedinitest.ConfigSection("dev", false)}, "AWS_CONFIG_FILE", merged)
	if err != nil {
		t.Fatal(err)
	}
	back, _, _, err := Remove(out, []string{"profile dev"})
	if err != nil {
		t.Fatal(err)
	}
	for p, content := range map[string][]byte{orig: []byte(sharedinitest.UserConfig), merged: out, cleaned: back, none: nil} {
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, profile := range []string{"default", "user"} {
		want := sharedinitest.LoadProfile(t, profile, orig, none)
		for _, p := range []string{merged, cleaned} {
			if diff := cmp.Diff(want, sharedinitest.LoadProfile(t, profile, p, none), cmpopts.IgnoreUnexported(config.SharedConfig{})); diff != "" {
				t.Errorf("profile %s in %s (-before +after):\n%s", profile, filepath.Base(p), diff)
			}
		}
	}
	if dev := sharedinitest.LoadProfile(t, "dev", merged, none); dev.CredentialProcess != sharedinitest.Process {
		t.Errorf("profile dev: credential_process %q", dev.CredentialProcess)
	}
}
