package shell

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/sharedini"
	"github.com/oidc-exchange/oidc-exchange/internal/sharedini/sharedinitest"
)

// profileSections are a profile as the AWS provider writes it.
func profileSections(name string, replace bool) []exchange.Section {
	cfgName := "profile " + name
	if name == "default" {
		cfgName = name
	}
	return []exchange.Section{
		{File: "aws-config", PathEnv: "AWS_CONFIG_FILE", Name: cfgName, Replace: replace,
			Keys: []exchange.Variable{exchange.PlainVariable("region", "eu-west-1")}},
		sharedinitest.CredentialsSection(name, replace),
	}
}

const userAWSConfig = `# Mine; keep this.
[default]
region = us-east-1

; a profile of my own
[profile user]
region = eu-central-1
s3 =
  max_concurrent_requests = 20
`

const userAWSCredentials = `[user]
aws_access_key_id = FAKEUSERKEY
aws_secret_access_key = FAKEUSERSECRET
`

// profileEnv is a getenv naming files in dir.
func profileEnv(dir string) func(string) string {
	env := map[string]string{
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
	}
	return func(k string) string { return env[k] }
}

// snapshotDir returns every file under dir with its content.
func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			out[p] = "-> " + target
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestProfileWriterNewPair(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	var notices bytes.Buffer
	w := &ProfileWriter{Getenv: func(string) string { return "" }, Home: home, Notices: &notices}
	sections := append(profileSections("a", false), profileSections("default", false)...)
	if err := w.Export(context.Background(), &exchange.Credentials{Provider: "aws", Sections: sections}); err != nil {
		t.Fatalf("Export: %v", err)
	}
	cfgFile, credFile := filepath.Join(home, ".aws", "config"), filepath.Join(home, ".aws", "credentials")
	if fi, err := os.Stat(filepath.Dir(cfgFile)); err != nil || fi.Mode().Perm() != profileDirMode {
		t.Errorf("directory: %v, %v; want mode %v", fi, err, fs.FileMode(profileDirMode))
	}
	for _, p := range []string{cfgFile, credFile} {
		if fi, err := os.Lstat(p); err != nil || fi.Mode() != profileFileMode {
			t.Errorf("%s: %v, %v; want mode %v", p, fi, err, fs.FileMode(profileFileMode))
		}
	}
	for _, name := range []string{"a", "default"} {
		got := sharedinitest.LoadProfile(t, name, cfgFile, credFile)
		if got.Region != "eu-west-1" {
			t.Errorf("profile %s: region %q", name, got.Region)
		}
		creds := []string{got.Credentials.AccessKeyID, got.Credentials.SecretAccessKey, got.Credentials.SessionToken}
		if diff := cmp.Diff([]string{sharedinitest.KeyID, sharedinitest.Secret, sharedinitest.Token}, creds); diff != "" {
			t.Errorf("profile %s's credentials (-want +got):\n%s", name, diff)
		}
	}
	want := "wrote profile a to " + cfgFile + " and " + credFile + "\n" +
		"wrote profile default to " + cfgFile + " and " + credFile + "\n"
	if diff := cmp.Diff(want, notices.String()); diff != "" {
		t.Errorf("notices (-want +got):\n%s", diff)
	}
	if strings.Contains(notices.String(), sharedinitest.Secret) {
		t.Error("a notice shows a secret")
	}
	if entries, err := os.ReadDir(filepath.Dir(cfgFile)); err != nil || len(entries) != 2 {
		t.Errorf("directory holds %v, %v; want the two files only", entries, err)
	}
}

func TestProfileWriterMergesIntoExisting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	getenv := profileEnv(dir)
	cfgFile, credFile := getenv("AWS_CONFIG_FILE"), getenv("AWS_SHARED_CREDENTIALS_FILE")
	write(t, cfgFile, userAWSConfig)
	write(t, credFile, userAWSCredentials)
	before := map[string]config.SharedConfig{}
	for _, p := range []string{"default", "user"} {
		before[p] = sharedinitest.LoadProfile(t, p, cfgFile, credFile)
	}
	w := &ProfileWriter{Getenv: getenv}
	if err := w.Export(context.Background(), &exchange.Credentials{Sections: profileSections("dev", false)}); err != nil {
		t.Fatalf("Export: %v", err)
	}
	content, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"# Mine; keep this.", "; a profile of my own", "max_concurrent_requests = 20"} {
		if !bytes.Contains(content, []byte(c)) {
			t.Errorf("%q lost:\n%s", c, content)
		}
	}
	secs, err := sharedinitest.Read(content)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := secs["profile dev"]; !ok {
		t.Errorf("no [profile dev] in\n%s", content)
	}
	for p, want := range before {
		got := sharedinitest.LoadProfile(t, p, cfgFile, credFile)
		if got.Region != want.Region || got.Credentials != want.Credentials {
			t.Errorf("profile %s changed: %+v, want %+v", p, got, want)
		}
	}
	dev := sharedinitest.LoadProfile(t, "dev", cfgFile, credFile)
	if dev.Region != "eu-west-1" || dev.Credentials.SecretAccessKey != sharedinitest.Secret {
		t.Errorf("profile dev: region %q, secret read back %v", dev.Region, dev.Credentials.SecretAccessKey == sharedinitest.Secret)
	}
	if fi, err := os.Lstat(cfgFile); err != nil || fi.Mode() != profileFileMode {
		t.Errorf("merged file: %v, %v; want mode %v now that it sits beside credentials", fi, err, fs.FileMode(profileFileMode))
	}
}

func TestProfileWriterRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		setup    func(t *testing.T, dir string)
		sections []exchange.Section
		want     func(err error) bool
	}{
		{name: "existing profile without overwrite",
			setup: func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "config"), userAWSConfig)
				write(t, filepath.Join(dir, "credentials"), userAWSCredentials)
			},
			sections: profileSections("user", false),
			want: func(err error) bool {
				var exists *sharedini.SectionExistsError
				return errors.As(err, &exists) && errors.Is(err, exchange.ErrInvalidInput)
			}},
		{name: "existing profile in the second file only",
			setup: func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "credentials"), userAWSCredentials)
			},
			sections: profileSections("user", false),
			want: func(err error) bool {
				var exists *sharedini.SectionExistsError
				return errors.As(err, &exists)
			}},
		{name: "symbolic link",
			setup: func(t *testing.T, dir string) {
				target := filepath.Join(dir, "elsewhere")
				write(t, target, userAWSCredentials)
				if err := os.Symlink(target, filepath.Join(dir, "credentials")); err != nil {
					t.Skipf("no symbolic links here: %v", err)
				}
			},
			sections: profileSections("dev", false),
			want: func(err error) bool {
				return errors.Is(err, exchange.ErrInvalidInput) && strings.Contains(err.Error(), "symbolic link")
			}},
		{name: "a directory",
			setup: func(t *testing.T, dir string) {
				if err := os.Mkdir(filepath.Join(dir, "config"), 0o700); err != nil {
					t.Fatal(err)
				}
			},
			sections: profileSections("dev", false),
			want:     func(err error) bool { return errors.Is(err, exchange.ErrInvalidInput) }},
		{name: "a file the merge cannot read",
			setup: func(t *testing.T, dir string) {
				write(t, filepath.Join(dir, "credentials"), "[user]\naws_secret_access_key = `FAKE`\n")
			},
			sections: profileSections("dev", false),
			want: func(err error) bool {
				return errors.Is(err, exchange.ErrInvalidInput) && !strings.Contains(err.Error(), "FAKE`")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tc.setup(t, dir)
			before := snapshotDir(t, dir)
			var notices bytes.Buffer
			w := &ProfileWriter{Getenv: profileEnv(dir), Notices: &notices}
			err := w.Export(context.Background(), &exchange.Credentials{Sections: tc.sections})
			if err == nil || !tc.want(err) {
				t.Fatalf("Export = %v", err)
			}
			if strings.Contains(err.Error(), sharedinitest.Secret) {
				t.Errorf("error shows a secret: %v", err)
			}
			if diff := cmp.Diff(before, snapshotDir(t, dir)); diff != "" {
				t.Errorf("files changed (-before +after):\n%s", diff)
			}
			if notices.Len() != 0 {
				t.Errorf("notices %q after a failure", notices.String())
			}
		})
	}
}

func TestProfileWriterReplaces(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	getenv := profileEnv(dir)
	write(t, getenv("AWS_CONFIG_FILE"), userAWSConfig)
	write(t, getenv("AWS_SHARED_CREDENTIALS_FILE"), userAWSCredentials)
	w := &ProfileWriter{Getenv: getenv}
	if err := w.Export(context.Background(), &exchange.Credentials{Sections: profileSections("user", true)}); err != nil {
		t.Fatalf("Export: %v", err)
	}
	got := sharedinitest.LoadProfile(t, "user", getenv("AWS_CONFIG_FILE"), getenv("AWS_SHARED_CREDENTIALS_FILE"))
	if got.Region != "eu-west-1" || got.Credentials.AccessKeyID != sharedinitest.KeyID {
		t.Errorf("profile user: region %q, key id %q", got.Region, got.Credentials.AccessKeyID)
	}
}

func TestProfileWriterBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	same := func(string) string { return filepath.Join(dir, "both") }
	tests := []struct {
		name string
		w    *ProfileWriter
		c    *exchange.Credentials
	}{
		{name: "no sections", w: &ProfileWriter{Getenv: profileEnv(dir)}, c: &exchange.Credentials{}},
		{name: "files", w: &ProfileWriter{Getenv: profileEnv(dir)},
			c: &exchange.Credentials{Sections: profileSections("a", false), Files: []exchange.File{{Prefix: "x"}}}},
		{name: "secret variables", w: &ProfileWriter{Getenv: profileEnv(dir)},
			c: &exchange.Credentials{Sections: profileSections("a", false),
				Env: []exchange.Variable{exchange.SecretVariable("AWS_SECRET_ACCESS_KEY", exchange.NewSecret(sharedinitest.Secret))}}},
		{name: "one file for both", w: &ProfileWriter{Getenv: same}, c: &exchange.Credentials{Sections: profileSections("a", false)}},
		{name: "no home", w: &ProfileWriter{Getenv: func(string) string { return "" }},
			c: &exchange.Credentials{Sections: profileSections("a", false)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.w.Export(context.Background(), tc.c); err == nil {
				t.Fatal("Export succeeded")
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("wrote %v", entries)
			}
		})
	}
}
