package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/sharedini"
	"github.com/oidc-exchange/oidc-exchange/internal/sharedini/sharedinitest"
)

// sharedMode is one way the edge runs.
type sharedMode struct {
	name   string
	opts   githubtest.Options
	native bool
}

func sharedModes() []sharedMode {
	return []sharedMode{
		{name: "container with runner temp", opts: githubtest.Options{MountRunnerTemp: true}},
		{name: "container with home only", opts: githubtest.Options{}},
		{name: "native", opts: githubtest.Options{Mode: githubtest.Native}, native: true},
	}
}

// defaultDir is the host directory shared files go to by default.
func (m sharedMode) defaultDir(r *githubtest.Runner) string {
	if m.native || m.opts.MountRunnerTemp {
		return r.HostTemp()
	}
	return filepath.Join(r.HostTemp(), "_github_home")
}

// sharedEdge is an edge for step that logs at debug level to out.
func sharedEdge(t *testing.T, r *githubtest.Runner, m sharedMode, step *githubtest.StepEnv, out io.Writer) *Edge {
	t.Helper()
	e, err := New(Config{Getenv: step.Getenv, Stdout: out, HostRunnerTemp: r.HostTemp(), Native: m.native,
		Logger: slog.New(NewLogHandler(out, slog.LevelDebug))})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// profiles returns the config and credentials sections of the named
// profiles.
func profiles(names ...string) []exchange.Section {
	var out []exchange.Section
	for _, n := range names {
		out = append(out, sharedinitest.ConfigSection(n, false), sharedinitest.CredentialsSection(n, false))
	}
	return out
}

// iniOf reads the file at p and returns its sections as the merge reads
// them.
func iniOf(t *testing.T, p string) map[string][]sharedinitest.Key {
	t.Helper()
	secs, err := sharedinitest.Read([]byte(readFile(t, p)))
	if err != nil {
		t.Fatalf("reading %s: %v", p, err)
	}
	return secs
}

// sectionNames lists the sections of a file other than ini.v1's default.
func sectionNames(t *testing.T, p string) []string {
	t.Helper()
	var names []string
	for n := range iniOf(t, p) {
		if n != "DEFAULT" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// records decodes the state value.
func records(t *testing.T, v string) []sharedRecord {
	t.Helper()
	var out []sharedRecord
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		t.Fatalf("state %s = %q: %v", StateSections, v, err)
	}
	return out
}

// snapshot maps every file under dir to its mode and content, leaving out
// the per-step file commands.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.Contains(p, "_runner_file_commands") {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		content := ""
		if fi.Mode().IsRegular() {
			content = readFile(t, p)
		}
		out[p] = fi.Mode().String() + " " + content
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSharedFilesOnSimulatedRunner writes two profiles into a new
// config/credentials pair, checks what later steps get, and removes both
// files in the post step.
func TestSharedFilesOnSimulatedRunner(t *testing.T) {
	t.Parallel()
	for _, m := range sharedModes() {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r := githubtest.New(t, m.opts)
			step := r.Step(githubtest.Main, nil)
			var stdout bytes.Buffer
			e := sharedEdge(t, r, m, step, &stdout)
			creds := &exchange.Credentials{Provider: "aws", Sections: profiles("a", "b")}
			if err := e.Export(ctx, creds); err != nil {
				t.Fatalf("Export: %v", err)
			}
			res := r.Finish(step, stdout.Bytes(), nil)
			res.AssertNoProblems(t)
			// The pipeline masks the sections' secrets; the edge must not
			// print them in the first place.
			res.AssertNoLeak(t, sharedinitest.Secrets()...)

			dir := m.defaultDir(r)
			want := map[string]string{
				"AWS_CONFIG_FILE":             filepath.Join(dir, "oidc-exchange-aws-config"),
				"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "oidc-exchange-aws-credentials"),
			}
			if diff := cmp.Diff(want, res.Env); diff != "" {
				t.Errorf("exported env (-want +got):\n%s", diff)
			}
			wantSections := map[string][]string{
				"AWS_CONFIG_FILE":             {"profile a", "profile b"},
				"AWS_SHARED_CREDENTIALS_FILE": {"a", "b"},
			}
			for v, p := range want {
				r.ReadFromHostStep(t, p)
				if diff := cmp.Diff(wantSections[v], sectionNames(t, p)); diff != "" {
					t.Errorf("%s sections (-want +got):\n%s", v, diff)
				}
				if fi, err := os.Lstat(p); err != nil || fi.Mode() != fileMode {
					t.Errorf("%s: Lstat = %v, %v; want mode %v", p, fi, err, fileMode)
				}
			}
			if got := readFile(t, want["AWS_SHARED_CREDENTIALS_FILE"]); !strings.Contains(got, "aws_secret_access_key = "+sharedinitest.Secret+"\n") {
				t.Errorf("credentials file:\n%s", got)
			}
			var gotRecords []sharedRecord
			for _, rec := range records(t, res.State[StateSections]) {
				rec.Path = r.HostPath(rec.Path)
				gotRecords = append(gotRecords, rec)
			}
			wantRecords := []sharedRecord{
				{Path: want["AWS_CONFIG_FILE"], Created: true, Sections: []string{"profile a", "profile b"}},
				{Path: want["AWS_SHARED_CREDENTIALS_FILE"], Created: true, Sections: []string{"a", "b"}},
			}
			if diff := cmp.Diff(wantRecords, gotRecords); diff != "" {
				t.Errorf("state records (-want +got):\n%s", diff)
			}
			if got := res.State[StateExportedEnv]; got != "AWS_CONFIG_FILE,AWS_SHARED_CREDENTIALS_FILE" {
				t.Errorf("state %s = %q", StateExportedEnv, got)
			}
			if ws := listFiles(t, r.HostWorkspace()); len(ws) > 0 {
				t.Errorf("files in the workspace: %q", ws)
			}
			if strays := stagedFiles(t, dir); len(strays) > 0 {
				t.Errorf("staged files left: %q", strays)
			}

			post := r.Step(githubtest.Post, nil)
			var postOut bytes.Buffer
			if err := sharedEdge(t, r, m, post, &postOut).Cleanup(ctx); err != nil {
				t.Fatalf("Cleanup: %v", err)
			}
			pres := r.Finish(post, postOut.Bytes(), nil)
			pres.AssertNoProblems(t)
			for v, p := range want {
				if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s survived the post step: %v", p, err)
				}
				if got, ok := pres.Env[v]; !ok || got != "" {
					t.Errorf("after the post step %s = %q, %v; want blank", v, got, ok)
				}
			}
		})
	}
}

// stagedFiles lists staged files and backups left in dir.
func stagedFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), stagePrefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestSharedFilesTwoSteps: step one writes profiles a and b, step two
// (whose environment now names the files) writes c into the same files.
// The post steps run in reverse: two's removes c only, one's removes a
// and b and then the files it created.
func TestSharedFilesTwoSteps(t *testing.T) {
	t.Parallel()
	for _, m := range sharedModes() {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r := githubtest.New(t, m.opts)
			run := func(id string, stage githubtest.Stage, do func(*Edge) error) *githubtest.StepResult {
				t.Helper()
				step := r.StepOf(id, stage, nil)
				var out bytes.Buffer
				if err := do(sharedEdge(t, r, m, step, &out)); err != nil {
					t.Fatalf("%s %s: %v", id, stage, err)
				}
				res := r.Finish(step, out.Bytes(), nil)
				res.AssertNoProblems(t)
				res.AssertNoLeak(t, sharedinitest.Secrets()...)
				return res
			}
			export := func(names ...string) func(*Edge) error {
				return func(e *Edge) error {
					return e.Export(ctx, &exchange.Credentials{Provider: "aws", Sections: profiles(names...)})
				}
			}
			cleanup := func(e *Edge) error { return e.Cleanup(ctx) }

			one := run("one", githubtest.Main, export("a", "b"))
			cfg, cred := one.Env["AWS_CONFIG_FILE"], one.Env["AWS_SHARED_CREDENTIALS_FILE"]
			two := run("two", githubtest.Main, export("c"))
			if two.Env["AWS_CONFIG_FILE"] != cfg || two.Env["AWS_SHARED_CREDENTIALS_FILE"] != cred {
				t.Fatalf("step two exported %q, step one %q", two.Env, one.Env)
			}
			if recs := records(t, two.State[StateSections]); len(recs) != 2 || recs[0].Created || recs[1].Created {
				t.Errorf("step two's records %+v; it created nothing", recs)
			}
			check := func(when string, wantCfg, wantCred []string) {
				t.Helper()
				for _, f := range []struct {
					p    string
					want []string
				}{{cfg, wantCfg}, {cred, wantCred}} {
					if f.want == nil {
						if _, err := os.Lstat(f.p); !errors.Is(err, fs.ErrNotExist) {
							t.Errorf("%s: %s still exists (%v)", when, f.p, err)
						}
						continue
					}
					if diff := cmp.Diff(f.want, sectionNames(t, f.p)); diff != "" {
						t.Errorf("%s: %s (-want +got):\n%s", when, f.p, diff)
					}
				}
			}
			check("after both main steps", []string{"profile a", "profile b", "profile c"}, []string{"a", "b", "c"})
			run("two", githubtest.Post, cleanup)
			check("after step two's post", []string{"profile a", "profile b"}, []string{"a", "b"})
			run("one", githubtest.Post, cleanup)
			check("after step one's post", nil, nil)
		})
	}
}

// TestSharedFilesMergeIntoUserFile: the user's AWS_CONFIG_FILE keeps its
// profiles and comments, becomes private, and gets its profiles back
// alone after the post step; an existing profile is replaced only when
// allowed.
func TestSharedFilesMergeIntoUserFile(t *testing.T) {
	t.Parallel()
	for _, m := range sharedModes() {
		for _, tc := range []struct {
			name     string
			sections []exchange.Section
			wantErr  bool
		}{
			{name: "new profile", sections: []exchange.Section{sharedinitest.ConfigSection("dev", false)}},
			{name: "existing profile refused", sections: []exchange.Section{sharedinitest.ConfigSection("user", false)}, wantErr: true},
			{name: "existing profile replaced", sections: []exchange.Section{sharedinitest.ConfigSection("user", true)}},
		} {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				r := githubtest.New(t, m.opts)
				userFile := userConfigFile(t, r)
				step := r.Step(githubtest.Main, nil)
				var stdout bytes.Buffer
				e := sharedEdge(t, r, m, step, &stdout)
				before := snapshot(t, r.WorkDir())
				err := e.Export(ctx, &exchange.Credentials{Provider: "aws", Sections: tc.sections})
				res := r.Finish(step, stdout.Bytes(), nil)
				res.AssertNoProblems(t)
				if tc.wantErr {
					var exists *sharedini.SectionExistsError
					if !errors.As(err, &exists) || !errors.Is(err, exchange.ErrInvalidInput) || !strings.Contains(err.Error(), "[profile user]") {
						t.Fatalf("err = %v, want a SectionExistsError naming [profile user]", err)
					}
					if diff := cmp.Diff(before, snapshot(t, r.WorkDir())); diff != "" {
						t.Errorf("files changed (-before +after):\n%s", diff)
					}
					if len(res.Env) != 0 || len(res.State) != 0 {
						t.Errorf("exported %q, state %q", res.Env, res.State)
					}
					return
				}
				if err != nil {
					t.Fatalf("Export: %v", err)
				}
				if got := res.Env["AWS_CONFIG_FILE"]; got != userFile {
					t.Errorf("AWS_CONFIG_FILE = %q, want the user's %q", got, userFile)
				}
				if fi, err := os.Lstat(userFile); err != nil || fi.Mode() != fileMode {
					t.Errorf("Lstat = %v, %v; want mode %v now that it holds credentials", fi, err, fileMode)
				}
				want, err := sharedinitest.Read([]byte(sharedinitest.UserConfig))
				if err != nil {
					t.Fatal(err)
				}
				s := tc.sections[0]
				want[s.Name] = []sharedinitest.Key{{Name: "region", Value: "eu-west-1"}, {Name: "credential_process", Value: sharedinitest.Process}}
				if diff := cmp.Diff(want, iniOf(t, userFile), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("merged file (-want +got):\n%s", diff)
				}
				content := readFile(t, userFile)
				for _, c := range []string{"# Written by hand; keep this comment.", "; The user's own profile.", "# A comment at the end of the file."} {
					if !strings.Contains(content, c+"\n") {
						t.Errorf("comment %q lost:\n%s", c, content)
					}
				}
				if recs := records(t, res.State[StateSections]); len(recs) != 1 || recs[0].Created || r.HostPath(recs[0].Path) != userFile {
					t.Errorf("records %+v", recs)
				}

				post := r.Step(githubtest.Post, nil)
				if err := sharedEdge(t, r, m, post, io.Discard).Cleanup(ctx); err != nil {
					t.Fatalf("Cleanup: %v", err)
				}
				r.Finish(post, nil, nil).AssertNoProblems(t)
				delete(want, s.Name)
				if diff := cmp.Diff(want, iniOf(t, userFile), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("after the post step (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// userConfigFile writes sharedinitest.UserConfig to a file in the container's home,
// which every mode can reach, and runs a step that names it in
// AWS_CONFIG_FILE for later steps, as a user's run: step would. It returns
// the file's host path.
func userConfigFile(t *testing.T, r *githubtest.Runner) string {
	t.Helper()
	p := filepath.Join(r.HostTemp(), "_github_home", ".aws", "config")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(sharedinitest.UserConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	setup := r.StepOf("user", githubtest.Main, nil)
	if err := os.WriteFile(setup.FileCommands()["GITHUB_ENV"], []byte("AWS_CONFIG_FILE="+p+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Finish(setup, nil, nil).AssertNoProblems(t)
	return p
}

// TestSharedFilesRefused: every refusal leaves every file as it was and
// exports nothing, and no error quotes a secret.
func TestSharedFilesRefused(t *testing.T) {
	t.Parallel()
	container := sharedModes()[0]
	homeOnly := sharedModes()[1]
	native := sharedModes()[2]
	home := func(r *githubtest.Runner, rel string) string {
		return filepath.Join(r.HostTemp(), "_github_home", rel)
	}
	write := func(t *testing.T, p, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conflicting := []exchange.Section{sharedinitest.ConfigSection("new", false), sharedinitest.CredentialsSection("a", false)}
	tests := []struct {
		name     string
		mode     sharedMode
		setup    func(t *testing.T, r *githubtest.Runner) map[string]string // step env overrides
		sections []exchange.Section
		files    []exchange.File
		env      []exchange.Variable
		random   io.Reader
		wantErr  error
		wantMsg  string
	}{
		{name: "symlink at the default path", mode: container, setup: func(t *testing.T, r *githubtest.Runner) map[string]string {
			write(t, filepath.Join(r.HostTemp(), "target"), "[x]\nk = v\n")
			if err := os.Symlink(filepath.Join(r.HostTemp(), "target"), filepath.Join(r.HostTemp(), "oidc-exchange-aws-config")); err != nil {
				t.Fatal(err)
			}
			return nil
		}, wantErr: exchange.ErrInvalidInput, wantMsg: "symbolic link"},
		{name: "symlink natively", mode: native, setup: func(t *testing.T, r *githubtest.Runner) map[string]string {
			write(t, filepath.Join(r.HostTemp(), "target"), "[x]\nk = v\n")
			if err := os.Symlink(filepath.Join(r.HostTemp(), "target"), filepath.Join(r.HostTemp(), "oidc-exchange-aws-credentials")); err != nil {
				t.Fatal(err)
			}
			return nil
		}, wantErr: exchange.ErrInvalidInput, wantMsg: "symbolic link"},
		{name: "hard link at the path", mode: container, setup: func(t *testing.T, r *githubtest.Runner) map[string]string {
			write(t, filepath.Join(r.HostTemp(), "other"), "[x]\nk = FAKE-user-key\n")
			if err := os.Link(filepath.Join(r.HostTemp(), "other"), filepath.Join(r.HostTemp(), "oidc-exchange-aws-config")); err != nil {
				t.Fatal(err)
			}
			return nil
		}, wantErr: exchange.ErrInvalidInput, wantMsg: "hard links"},
		{name: "directory at the path", mode: homeOnly, setup: func(t *testing.T, r *githubtest.Runner) map[string]string {
			if err := os.Mkdir(home(r, "oidc-exchange-aws-config"), 0o755); err != nil {
				t.Fatal(err)
			}
			return nil
		}, wantErr: exchange.ErrInvalidInput, wantMsg: "not a regular file"},
		{name: "outside the mounts", mode: container, setup: func(_ *testing.T, r *githubtest.Runner) map[string]string {
			return map[string]string{"AWS_CONFIG_FILE": filepath.Join(r.WorkDir(), "elsewhere", "config")}
		}, wantErr: exchange.ErrInvalidInput, wantMsg: ContainerRunnerTemp + " ("},
		{name: "runner temp not mounted", mode: homeOnly, setup: func(_ *testing.T, r *githubtest.Runner) map[string]string {
			return map[string]string{"AWS_CONFIG_FILE": filepath.Join(r.HostTemp(), "config")}
		}, wantErr: exchange.ErrInvalidInput, wantMsg: ContainerHome + " ("},
		{name: "workspace", mode: container, setup: func(_ *testing.T, r *githubtest.Runner) map[string]string {
			return map[string]string{"AWS_SHARED_CREDENTIALS_FILE": r.ContainerPath("/github/workspace/.aws/credentials")}
		}, wantErr: exchange.ErrInvalidInput, wantMsg: "workspace"},
		{name: "workspace natively", mode: native, setup: func(_ *testing.T, r *githubtest.Runner) map[string]string {
			return map[string]string{"AWS_CONFIG_FILE": filepath.Join(r.HostWorkspace(), "aws-config")}
		}, wantErr: exchange.ErrInvalidInput, wantMsg: "workspace"},
		{name: "relative path", mode: container, setup: func(*testing.T, *githubtest.Runner) map[string]string {
			return map[string]string{"AWS_CONFIG_FILE": "aws/config"}
		}, wantErr: exchange.ErrInvalidInput, wantMsg: "absolute"},
		{name: "relative path natively", mode: native, setup: func(*testing.T, *githubtest.Runner) map[string]string {
			return map[string]string{"AWS_CONFIG_FILE": "aws/config"}
		}, wantErr: exchange.ErrInvalidInput, wantMsg: "absolute"},
		{name: "both variables name one file", mode: container, setup: func(_ *testing.T, r *githubtest.Runner) map[string]string {
			p := r.ContainerPath("/github/home/aws")
			return map[string]string{"AWS_CONFIG_FILE": p, "AWS_SHARED_CREDENTIALS_FILE": p}
		}, wantErr: exchange.ErrInvalidInput, wantMsg: "same file"},
		{name: "missing directory", mode: container, setup: func(_ *testing.T, r *githubtest.Runner) map[string]string {
			return map[string]string{"AWS_CONFIG_FILE": r.ContainerPath("/github/home/.nope/config")}
		}, wantErr: fs.ErrNotExist},
		{name: "second file has the profile", mode: container, setup: func(t *testing.T, r *githubtest.Runner) map[string]string {
			write(t, filepath.Join(r.HostTemp(), "oidc-exchange-aws-credentials"), "[a]\naws_access_key_id = FAKE-user-key\n")
			return nil
		}, sections: conflicting, wantErr: exchange.ErrInvalidInput, wantMsg: "[a]"},
		{name: "a credential file goes too", mode: container, setup: func(t *testing.T, r *githubtest.Runner) map[string]string {
			write(t, filepath.Join(r.HostTemp(), "oidc-exchange-aws-credentials"), "[a]\naws_access_key_id = FAKE-user-key\n")
			return nil
		}, sections: conflicting, files: []exchange.File{gcpFile("GOOGLE_APPLICATION_CREDENTIALS")}, wantMsg: "[a]"},
		{name: "unreadable user file", mode: container, setup: func(t *testing.T, r *githubtest.Runner) map[string]string {
			write(t, filepath.Join(r.HostTemp(), "oidc-exchange-aws-config"), "[profile u]\nFAKE-user-secret-on-a-line\n")
			return nil
		}, wantErr: exchange.ErrInvalidInput, wantMsg: "INI"},
		{name: "too large", mode: container, setup: func(t *testing.T, r *githubtest.Runner) map[string]string {
			write(t, filepath.Join(r.HostTemp(), "oidc-exchange-aws-config"), "[u]\nk = "+strings.Repeat("v", sharedini.MaxFileSize)+"\n")
			return nil
		}, wantErr: exchange.ErrInvalidInput, wantMsg: "larger"},
		{name: "invalid section", mode: container, sections: []exchange.Section{{File: "aws-config", PathEnv: "AWS_CONFIG_FILE",
			Name: "a]b", Keys: []exchange.Variable{exchange.PlainVariable("k", "v")}}}, wantMsg: "bracket"},
		{name: "one file, two variables", mode: container, sections: []exchange.Section{sharedinitest.ConfigSection("a", false),
			{File: "aws-config", PathEnv: "OTHER", Name: "b", Keys: []exchange.Variable{exchange.PlainVariable("k", "v")}}},
			wantMsg: "different variables"},
		{name: "section twice", mode: container, sections: []exchange.Section{sharedinitest.ConfigSection("a", false), sharedinitest.ConfigSection("a", true)},
			wantMsg: "twice"},
		{name: "variable clashes", mode: container, env: []exchange.Variable{exchange.PlainVariable("AWS_CONFIG_FILE", "/x")},
			wantMsg: "twice"},
		{name: "invalid variable", mode: container, sections: []exchange.Section{{File: "aws-config", PathEnv: "1X", Name: "a",
			Keys: []exchange.Variable{exchange.PlainVariable("k", "v")}}}, wantMsg: "invalid"},
		{name: "staged names collide", mode: container, random: zeroReader{}, wantErr: fs.ErrExist},
		{name: "file commands fail after the files are replaced", mode: container, setup: func(t *testing.T, r *githubtest.Runner) map[string]string {
			write(t, filepath.Join(r.HostTemp(), "oidc-exchange-aws-config"), sharedinitest.UserConfig)
			return nil
		}, random: &seqThenFail{n: 3 * fileRandomBytes}, wantMsg: "heredoc delimiter"},
		{name: "file commands fail natively", mode: native, setup: func(t *testing.T, r *githubtest.Runner) map[string]string {
			write(t, filepath.Join(r.HostTemp(), "oidc-exchange-aws-credentials"), "[user]\naws_access_key_id = FAKE-user-key\n")
			return nil
		}, random: &seqThenFail{n: 3 * fileRandomBytes}, wantMsg: "heredoc delimiter"},
		{name: "GITHUB_ENV unset", mode: container, setup: func(*testing.T, *githubtest.Runner) map[string]string {
			return map[string]string{"GITHUB_ENV": ""}
		}, wantMsg: "v2.297.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := githubtest.New(t, tc.mode.opts)
			step := r.Step(githubtest.Main, nil)
			var over map[string]string
			if tc.setup != nil {
				over = tc.setup(t, r)
			}
			sections := tc.sections
			if sections == nil {
				sections = profiles("a")
			}
			var stdout bytes.Buffer
			e, err := New(Config{Getenv: overlay(step.Getenv, over), Stdout: &stdout, HostRunnerTemp: r.HostTemp(),
				Native: tc.mode.native, Random: tc.random, Logger: slog.New(NewLogHandler(&stdout, slog.LevelDebug))})
			if err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, r.WorkDir())

			err = e.Export(context.Background(), &exchange.Credentials{Env: tc.env, Files: tc.files, Sections: sections})

			if err == nil {
				t.Fatal("Export succeeded")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %q, want it to mention %q", err, tc.wantMsg)
			}
			for _, s := range append(slices.Clone(sharedinitest.Secrets()), "FAKE") {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains a value", err)
				}
			}
			if diff := cmp.Diff(before, snapshot(t, r.WorkDir())); diff != "" {
				t.Errorf("files changed (-before +after):\n%s", diff)
			}
			res := r.Finish(step, stdout.Bytes(), nil)
			res.AssertNoLeak(t, append(slices.Clone(sharedinitest.Secrets()), "FAKE-user-key", "FAKE-user-secret-on-a-line")...)
			if len(res.Env) != 0 || len(res.Outputs) != 0 || len(res.State) != 0 {
				t.Errorf("something was exported: env %q, outputs %q, state %q", res.Env, res.Outputs, res.State)
			}
		})
	}
}

// seqThenFail yields n distinct bytes, then fails.
type seqThenFail struct {
	seq seqReader
	n   int
}

func (f *seqThenFail) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("random source exhausted")
	}
	k := min(len(p), f.n)
	f.n -= k
	return f.seq.Read(p[:k])
}

// TestSharedFilesCleanup covers what can happen to a shared file between
// the main step and its post step.
func TestSharedFilesCleanup(t *testing.T) {
	t.Parallel()
	m := sharedModes()[0]
	tests := []struct {
		name string
		// change alters the config file (host path p) after the main step.
		change  func(t *testing.T, r *githubtest.Runner, p string)
		state   string // replaces STATE_sections when set
		wantErr bool
		wantLog string
		// want is the config file's sections after the post step; nil
		// means the file is gone, unless keep is set.
		want []string
		keep bool
	}{
		{name: "untouched", want: nil},
		{name: "vanished", change: func(t *testing.T, _ *githubtest.Runner, p string) {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "someone added a profile", change: func(t *testing.T, _ *githubtest.Runner, p string) {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString("[profile other]\nregion = sa-east-1\n"); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"profile other"}},
		{name: "replaced by a symlink", change: func(t *testing.T, r *githubtest.Runner, p string) {
			target := filepath.Join(r.HostTemp(), "target")
			if err := os.WriteFile(target, []byte("[profile a]\nk = v\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
		}, wantLog: "not touching a shared file", want: []string{"profile a"}, keep: true},
		{name: "no longer INI", change: func(t *testing.T, _ *githubtest.Runner, p string) {
			if err := os.WriteFile(p, []byte("[profile a]\nFAKE-user-secret-on-a-line\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, wantErr: true, keep: true},
		{name: "unreadable state", state: "{", wantLog: "unreadable shared-file state", want: []string{"profile a", "profile b"}, keep: true},
		{name: "relative path in the state", state: `[{"path":"x/oidc-exchange-aws-config","created":true,"sections":["profile a"]}]`,
			wantLog: "not touching", want: []string{"profile a", "profile b"}, keep: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r := githubtest.New(t, m.opts)
			step := r.Step(githubtest.Main, nil)
			if err := sharedEdge(t, r, m, step, io.Discard).Export(ctx,
				&exchange.Credentials{Sections: []exchange.Section{sharedinitest.ConfigSection("a", false), sharedinitest.ConfigSection("b", false)}}); err != nil {
				t.Fatalf("Export: %v", err)
			}
			res := r.Finish(step, nil, nil)
			p := res.Env["AWS_CONFIG_FILE"]
			if tc.change != nil {
				tc.change(t, r, p)
			}
			post := r.Step(githubtest.Post, nil)
			getenv := post.Getenv
			if tc.state != "" {
				getenv = overlay(getenv, map[string]string{"STATE_" + StateSections: tc.state})
			}
			var out bytes.Buffer
			e, err := New(Config{Getenv: getenv, Stdout: &out, Logger: slog.New(NewLogHandler(&out, slog.LevelDebug))})
			if err != nil {
				t.Fatal(err)
			}
			err = e.Cleanup(ctx)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Cleanup: %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "FAKE") {
				t.Errorf("error %q quotes the file", err)
			}
			if !strings.Contains(out.String(), tc.wantLog) {
				t.Errorf("log does not mention %q:\n%s", tc.wantLog, out.String())
			}
			r.Finish(post, out.Bytes(), nil).AssertNoProblems(t)
			switch {
			case tc.want != nil:
				if diff := cmp.Diff(tc.want, sectionNames(t, p)); diff != "" {
					t.Errorf("sections left (-want +got):\n%s", diff)
				}
			case tc.keep:
				if _, err := os.Lstat(p); err != nil {
					t.Errorf("the file is gone: %v", err)
				}
			default:
				if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("the file is still there: %v", err)
				}
			}
			if strays := stagedFiles(t, r.HostTemp()); len(strays) > 0 {
				t.Errorf("staged files left: %q", strays)
			}
		})
	}
}

// TestSharedFilesExportTwice: a second Export in one step adds to the
// state of the first, and a file the first created stays created.
func TestSharedFilesExportTwice(t *testing.T) {
	t.Parallel()
	m := sharedModes()[0]
	ctx := context.Background()
	r := githubtest.New(t, m.opts)
	step := r.Step(githubtest.Main, nil)
	e := sharedEdge(t, r, m, step, io.Discard)
	for _, s := range [][]exchange.Section{{sharedinitest.ConfigSection("a", false)}, profiles("b")} {
		if err := e.Export(ctx, &exchange.Credentials{Sections: s, Files: []exchange.File{}}); err != nil {
			t.Fatalf("Export: %v", err)
		}
	}
	res := r.Finish(step, nil, nil)
	res.AssertNoProblems(t)
	want := []sharedRecord{
		{Path: res.Env["AWS_CONFIG_FILE"], Created: true, Sections: []string{"profile a", "profile b"}},
		{Path: res.Env["AWS_SHARED_CREDENTIALS_FILE"], Created: true, Sections: []string{"b"}},
	}
	var got []sharedRecord
	for _, rec := range records(t, res.State[StateSections]) {
		rec.Path = r.HostPath(rec.Path)
		got = append(got, rec)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	post := r.Step(githubtest.Post, nil)
	if err := sharedEdge(t, r, m, post, io.Discard).Cleanup(ctx); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	r.Finish(post, nil, nil).AssertNoProblems(t)
	for _, rec := range want {
		if _, err := os.Lstat(rec.Path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is still there: %v", rec.Path, err)
		}
	}
}

// TestSharedFilesWithCredentialFile: a credential file and shared files in
// one export, both in the state, both gone after the post step.
func TestSharedFilesWithCredentialFile(t *testing.T) {
	t.Parallel()
	m := sharedModes()[1]
	ctx := context.Background()
	r := githubtest.New(t, m.opts)
	step := r.Step(githubtest.Main, nil)
	creds := &exchange.Credentials{
		Env:      []exchange.Variable{exchange.PlainVariable("AWS_REGION", "eu-west-1")},
		Files:    []exchange.File{gcpFile("GOOGLE_APPLICATION_CREDENTIALS")},
		Sections: profiles("a"),
	}
	if err := sharedEdge(t, r, m, step, io.Discard).Export(ctx, creds); err != nil {
		t.Fatalf("Export: %v", err)
	}
	res := r.Finish(step, nil, nil)
	res.AssertNoProblems(t)
	res.AssertNoLeak(t, append(slices.Clone(sharedinitest.Secrets()), fileSecret)...)
	if got := res.State[StateExportedEnv]; got != "AWS_REGION,GOOGLE_APPLICATION_CREDENTIALS,AWS_CONFIG_FILE,AWS_SHARED_CREDENTIALS_FILE" {
		t.Errorf("exported %q", got)
	}
	paths := []string{res.Env["GOOGLE_APPLICATION_CREDENTIALS"], res.Env["AWS_CONFIG_FILE"], res.Env["AWS_SHARED_CREDENTIALS_FILE"]}
	for _, p := range paths {
		r.ReadFromHostStep(t, p)
	}
	post := r.Step(githubtest.Post, nil)
	if err := sharedEdge(t, r, m, post, io.Discard).Cleanup(ctx); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	r.Finish(post, nil, nil).AssertNoProblems(t)
	for _, p := range paths {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is still there: %v", p, err)
		}
	}
}
