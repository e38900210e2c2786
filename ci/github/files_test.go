package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

// fileSecret is inside every test file's content; it must never reach
// stdout, an error or the state.
const fileSecret = "FAKE-file-secret-7f3a"

func fakeFileContent() string {
	return `{"type":"external_account","credential_source":{"headers":{"Authorization":"Bearer ` + fileSecret + `"}}}`
}

// gcpFile is a credential file as the GCP provider will return it.
func gcpFile(pathEnv ...string) exchange.File {
	return exchange.File{
		Prefix:      "gha-creds-",
		Ext:         ".json",
		Content:     exchange.NewSecret(fakeFileContent()),
		PathEnv:     pathEnv,
		PathOutputs: []string{"credentials_file_path"},
	}
}

// overlay is getenv with some variables replaced ("" unsets them).
func overlay(getenv func(string) string, over map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := over[k]; ok {
			return v
		}
		return getenv(k)
	}
}

// listFiles returns every non-directory under dir, following the
// simulator's links only at dir itself.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// credentialFiles lists the files the edge may have created, in both
// candidate directories.
func credentialFiles(t *testing.T, r *githubtest.Runner) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{r.HostTemp(), filepath.Join(r.HostTemp(), "_github_home")} {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "gha-creds-") || strings.HasPrefix(e.Name(), "second-") {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	return out
}

var fileName = regexp.MustCompile(`^gha-creds-[0-9a-f]{16}\.json$`)

func TestExportFilesOnSimulatedRunner(t *testing.T) {
	t.Parallel()
	for _, mounted := range []bool{false, true} {
		for _, withEnv := range []bool{true, false} {
			name := fmt.Sprintf("mounted %v env %v", mounted, withEnv)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				r := githubtest.New(t, githubtest.Options{MountRunnerTemp: mounted})
				step := r.Step(githubtest.Main, nil)
				var stdout bytes.Buffer
				e, err := New(Config{
					Getenv:         step.Getenv,
					Stdout:         &stdout,
					Logger:         slog.New(NewLogHandler(&stdout, slog.LevelDebug)),
					HostRunnerTemp: r.HostTemp(),
				})
				if err != nil {
					t.Fatal(err)
				}
				var pathEnv []string
				if withEnv {
					pathEnv = []string{"GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE"}
				}
				creds := &exchange.Credentials{
					Provider: "gcp",
					Env:      []exchange.Variable{exchange.PlainVariable("GOOGLE_CLOUD_PROJECT", "fake-project")},
					Files:    []exchange.File{gcpFile(pathEnv...)},
				}
				if err := e.Export(ctx, creds); err != nil {
					t.Fatalf("Export: %v", err)
				}
				res := r.Finish(step, stdout.Bytes(), nil)
				res.AssertNoProblems(t)
				res.AssertNoLeak(t, fileSecret)

				host := res.Outputs["credentials_file_path"]
				wantDir := filepath.Join(r.HostTemp(), "_github_home")
				if mounted {
					wantDir = r.HostTemp()
				}
				if filepath.Dir(host) != wantDir || !fileName.MatchString(filepath.Base(host)) {
					t.Fatalf("exported path %q, want %s/gha-creds-<16 hex>.json", host, wantDir)
				}
				for _, v := range pathEnv {
					if res.Env[v] != host {
						t.Errorf("later steps see %s = %q, want the host path %q", v, res.Env[v], host)
					}
				}
				if !withEnv {
					if _, ok := res.Env["GOOGLE_APPLICATION_CREDENTIALS"]; ok {
						t.Error("GOOGLE_APPLICATION_CREDENTIALS was exported without being asked for")
					}
				}
				if got := string(r.ReadFromHostStep(t, host)); got != fakeFileContent() {
					t.Errorf("a later host step reads %q", got)
				}
				fi, err := os.Lstat(host)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode() != fileMode {
					t.Errorf("mode = %v, want %v", fi.Mode(), fileMode)
				}
				if ws := listFiles(t, r.HostWorkspace()); len(ws) > 0 {
					t.Errorf("files in the workspace: %q", ws)
				}
				if got := credentialFiles(t, r); !slices.Equal(got, []string{host}) {
					t.Errorf("credential files = %q, want just %q", got, host)
				}

				// State names the container path, which the post step's
				// container can open.
				state := res.State[StateFiles]
				literal := ContainerHome
				if mounted {
					literal = ContainerRunnerTemp
				}
				if want := r.ContainerPath(path.Join(literal, filepath.Base(host))); state != want {
					t.Errorf("state %s = %q, want %q", StateFiles, state, want)
				}
				if r.HostPath(state) != host {
					t.Errorf("state path %q is not the exported file %q", state, host)
				}
				wantNames := "GOOGLE_CLOUD_PROJECT"
				if withEnv {
					wantNames += ",GOOGLE_APPLICATION_CREDENTIALS,CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE"
				}
				if got := res.State[StateExportedEnv]; got != wantNames {
					t.Errorf("state %s = %q, want %q", StateExportedEnv, got, wantNames)
				}
				if !strings.Contains(stdout.String(), host) {
					t.Errorf("the debug log does not name the host path:\n%s", stdout.String())
				}

				// Post step: the file goes, whatever was exported.
				post := r.Step(githubtest.Post, nil)
				var postOut bytes.Buffer
				pe, err := New(Config{Getenv: post.Getenv, Stdout: &postOut, Logger: slog.New(NewLogHandler(&postOut, slog.LevelDebug))})
				if err != nil {
					t.Fatal(err)
				}
				if err := pe.Cleanup(ctx); err != nil {
					t.Fatalf("Cleanup: %v", err)
				}
				pres := r.Finish(post, postOut.Bytes(), nil)
				pres.AssertNoProblems(t)
				if _, err := os.Lstat(host); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("the credential file survived the post step: %v", err)
				}
				for _, v := range pathEnv {
					if got, ok := pres.Env[v]; !ok || got != "" {
						t.Errorf("after cleanup %s = %q, %v; want blank", v, got, ok)
					}
				}
			})
		}
	}
}

// TestExportFilesWithoutPathVariables: a file nobody is told about is
// still listed for the post step.
func TestExportFilesWithoutPathVariables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := githubtest.New(t, githubtest.Options{MountRunnerTemp: true})
	step := r.Step(githubtest.Main, nil)
	var stdout bytes.Buffer
	e, err := New(Config{Getenv: step.Getenv, Stdout: &stdout, HostRunnerTemp: r.HostTemp()})
	if err != nil {
		t.Fatal(err)
	}
	f := gcpFile()
	f.PathOutputs = nil
	if err := e.Export(ctx, &exchange.Credentials{Files: []exchange.File{f}}); err != nil {
		t.Fatalf("Export: %v", err)
	}
	res := r.Finish(step, stdout.Bytes(), nil)
	res.AssertNoProblems(t)
	files := credentialFiles(t, r)
	if len(files) != 1 || len(res.Env) != 0 || len(res.Outputs) != 0 {
		t.Fatalf("files %q, env %q, outputs %q", files, res.Env, res.Outputs)
	}
	if r.HostPath(res.State[StateFiles]) != files[0] {
		t.Errorf("state %q does not name %q", res.State[StateFiles], files[0])
	}
	post := r.Step(githubtest.Post, nil)
	pe, err := New(Config{Getenv: post.Getenv, Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := pe.Cleanup(ctx); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	r.Finish(post, nil, nil).AssertNoProblems(t)
	if got := credentialFiles(t, r); len(got) != 0 {
		t.Errorf("left behind: %q", got)
	}
}

// TestExportFilesTwice: a second Export in one step keeps the first
// one's files in the state.
func TestExportFilesTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := githubtest.New(t, githubtest.Options{})
	step := r.Step(githubtest.Main, nil)
	e, err := New(Config{Getenv: step.Getenv, Stdout: io.Discard, HostRunnerTemp: r.HostTemp()})
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{"first", "second"} {
		f := gcpFile()
		f.PathOutputs = []string{out}
		if err := e.Export(ctx, &exchange.Credentials{Files: []exchange.File{f}}); err != nil {
			t.Fatalf("Export: %v", err)
		}
	}
	res := r.Finish(step, nil, nil)
	res.AssertNoProblems(t)
	var got []string
	for _, p := range splitList(res.State[StateFiles]) {
		got = append(got, r.HostPath(p))
	}
	want := []string{res.Outputs["first"], res.Outputs["second"]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state files (-want +got):\n%s", diff)
	}
}

// failAfter yields n random bytes, then fails.
type failAfter struct{ n int }

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("random source exhausted")
	}
	k := min(len(p), f.n)
	clear(p[:k])
	f.n -= k
	return k, nil
}

func TestExportFilesAllOrNothing(t *testing.T) {
	t.Parallel()
	zeroDelimiter := delimiterPrefix + strings.Repeat("0", 2*delimiterBytes)
	second := gcpFile()
	second.PathOutputs = []string{"second_path"}
	tests := []struct {
		name      string
		mounted   bool
		files     []exchange.File
		env       []exchange.Variable
		over      map[string]string // step env overrides
		hostTemp  string            // "" means r.HostTemp()
		random    io.Reader
		removeDir bool // remove the host directory behind /github/home
		wantErr   error
		wantMsg   string
	}{
		{name: "invalid PathEnv name", files: []exchange.File{gcpFile("1BAD")}, wantMsg: "invalid"},
		{name: "NODE_OPTIONS as PathEnv", files: []exchange.File{gcpFile("NODE_OPTIONS")}, wantMsg: "NODE_OPTIONS"},
		{name: "PathEnv clashes with a variable", files: []exchange.File{gcpFile("GOOGLE_CLOUD_PROJECT")},
			env: []exchange.Variable{exchange.PlainVariable("GOOGLE_CLOUD_PROJECT", "p")}, wantMsg: "twice"},
		{name: "invalid PathOutputs name", files: []exchange.File{{Prefix: "gha-creds-", Content: exchange.NewSecret("x"),
			PathOutputs: []string{"a.b"}}}, wantMsg: "invalid"},
		{name: "two files, one output", files: []exchange.File{gcpFile(), gcpFile()}, wantMsg: "twice"},
		{name: "prefix with a slash", files: []exchange.File{{Prefix: "../gha-creds-", Content: exchange.NewSecret("x")}},
			wantMsg: "prefix"},
		{name: "extension with a comma", files: []exchange.File{{Prefix: "gha-creds-", Ext: ".json,x", Content: exchange.NewSecret("x")}},
			wantMsg: "extension"},
		{name: "empty content", files: []exchange.File{{Prefix: "gha-creds-"}}, wantMsg: "no content"},
		{name: "invalid UTF-8 in a variable", files: []exchange.File{gcpFile()},
			env: []exchange.Variable{exchange.PlainVariable("A", "\xff")}, wantMsg: "UTF-8"},
		{name: "GITHUB_ENV unset", files: []exchange.File{gcpFile("GOOGLE_APPLICATION_CREDENTIALS")},
			over: map[string]string{"GITHUB_ENV": ""}, wantMsg: "v2.297.0"},
		{name: "GITHUB_OUTPUT unset", files: []exchange.File{gcpFile()},
			over: map[string]string{"GITHUB_OUTPUT": ""}, wantMsg: "v2.297.0"},
		{name: "host temp is a container path", mounted: true, files: []exchange.File{gcpFile()},
			hostTemp: "/github/runner_temp", wantErr: exchange.ErrInvalidInput},
		{name: "no host path at all", mounted: true, files: []exchange.File{gcpFile()}, hostTemp: " ",
			over: map[string]string{"RUNNER_WORKSPACE": ""}, wantErr: exchange.ErrInvalidInput},
		{name: "HOME is not the container home", files: []exchange.File{gcpFile()},
			over: map[string]string{"HOME": "/home/runner"}, wantMsg: "/github/home"},
		{name: "directory missing", files: []exchange.File{gcpFile()}, removeDir: true, wantErr: fs.ErrNotExist},
		{name: "name collision", files: []exchange.File{gcpFile(), second}, random: zeroReader{}, wantErr: fs.ErrExist},
		{name: "random fails after the first file", files: []exchange.File{gcpFile(), second},
			random: &failAfter{n: fileRandomBytes}, wantMsg: "random"},
		{name: "file command fails after the files", files: []exchange.File{gcpFile()}, random: zeroReader{},
			env:     []exchange.Variable{exchange.SecretVariable("A", exchange.NewSecret("FAKE\n"+zeroDelimiter+"\nLD_PRELOAD=/evil"))},
			wantErr: errDelimiterCollision},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := githubtest.New(t, githubtest.Options{MountRunnerTemp: tc.mounted})
			step := r.Step(githubtest.Main, nil)
			if tc.removeDir {
				if err := os.RemoveAll(filepath.Join(r.HostTemp(), "_github_home")); err != nil {
					t.Fatal(err)
				}
			}
			hostTemp := tc.hostTemp
			if hostTemp == "" {
				hostTemp = r.HostTemp()
			}
			var stdout bytes.Buffer
			cfg := Config{Getenv: overlay(step.Getenv, tc.over), Stdout: &stdout, HostRunnerTemp: hostTemp, Random: tc.random,
				Logger: slog.New(NewLogHandler(&stdout, slog.LevelDebug))}
			e, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}

			err = e.Export(context.Background(), &exchange.Credentials{Env: tc.env, Files: tc.files})

			if err == nil {
				t.Fatal("Export succeeded")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %q, want it to mention %q", err, tc.wantMsg)
			}
			if strings.Contains(err.Error(), fileSecret) || strings.Contains(err.Error(), "FAKE") {
				t.Errorf("error %q contains a value", err)
			}
			if got := credentialFiles(t, r); len(got) > 0 {
				t.Errorf("files left behind: %q", got)
			}
			if ws := listFiles(t, r.HostWorkspace()); len(ws) > 0 {
				t.Errorf("files in the workspace: %q", ws)
			}
			res := r.Finish(step, stdout.Bytes(), nil)
			res.AssertNoLeak(t, fileSecret)
			if len(res.Env) != 0 || len(res.Outputs) != 0 || len(res.State) != 0 {
				t.Errorf("something was exported: env %q, outputs %q, state %q", res.Env, res.Outputs, res.State)
			}
		})
	}
}

func TestCredentialSource(t *testing.T) {
	t.Parallel()
	const requestURL = "https://pipelines.actions.githubusercontent.com/abc/_apis/distributedtask/hubs/Actions/plans/1/jobs/2/idtoken?api-version=2.0"
	const requestToken = "FAKE-request-token"
	full := map[string]string{requestURLVar: requestURL, requestTokenVar: requestToken}
	e, _ := newTestEdge(t, env(full))

	got, err := e.CredentialSource("https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/gh")
	if err != nil {
		t.Fatalf("CredentialSource: %v", err)
	}
	u, err := url.Parse(got.URL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "https" || u.Host != "pipelines.actions.githubusercontent.com" || !strings.HasSuffix(u.Path, "/idtoken") {
		t.Errorf("URL = %q", got.URL)
	}
	wantQuery := url.Values{
		"api-version": {"2.0"},
		"audience":    {"https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/gh"},
	}
	if diff := cmp.Diff(wantQuery, u.Query()); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if got.JSONField != "value" || got.File != "" || len(got.Headers) != 1 {
		t.Errorf("source = %+v", got)
	}
	if h := got.Headers["Authorization"]; h.Reveal() != "Bearer "+requestToken {
		t.Errorf("Authorization header is not the bearer request token")
	}
	// The header is a Secret: no printing path shows it.
	for _, s := range []string{fmt.Sprint(got), fmt.Sprintf("%+v %#v", *got, got.Headers)} {
		if strings.Contains(s, requestToken) {
			t.Errorf("printing the source shows the request token: %s", s)
		}
	}
	if b, err := json.Marshal(got); err != nil || strings.Contains(string(b), requestToken) {
		t.Errorf("JSON of the source = %s, %v", b, err)
	}

	// The audience replaces one already in the URL.
	e2, _ := newTestEdge(t, env(map[string]string{requestURLVar: requestURL + "&audience=old", requestTokenVar: requestToken}))
	got2, err := e2.CredentialSource("new")
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := url.Parse(got2.URL); u.Query().Get("audience") != "new" || len(u.Query()["audience"]) != 1 {
		t.Errorf("URL = %q", got2.URL)
	}
}

func TestCredentialSourceErrors(t *testing.T) {
	t.Parallel()
	const requestURL = "https://pipelines.actions.githubusercontent.com/abc/idtoken?api-version=2.0"
	tests := []struct {
		name     string
		env      map[string]string
		audience string
		wantErr  error
		wantMsg  string
	}{
		{"no permission", map[string]string{}, "aud", exchange.ErrTokenUnavailable, "id-token: write"},
		{"URL missing", map[string]string{requestTokenVar: "FAKE"}, "aud", exchange.ErrTokenUnavailable, requestURLVar},
		{"token missing", map[string]string{requestURLVar: requestURL}, "aud", exchange.ErrTokenUnavailable, requestTokenVar},
		{"plain http", map[string]string{requestURLVar: "http://example.com/idtoken?api-version=2.0", requestTokenVar: "FAKE"},
			"aud", exchange.ErrTokenUnavailable, "https"},
		{"empty audience", map[string]string{requestURLVar: requestURL, requestTokenVar: "FAKE"}, "", exchange.ErrInvalidInput, "audience"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, _ := newTestEdge(t, env(tc.env))
			got, err := e.CredentialSource(tc.audience)
			if !errors.Is(err, tc.wantErr) || got != nil {
				t.Fatalf("CredentialSource = %+v, %v; want %v", got, err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) || strings.Contains(err.Error(), "FAKE") {
				t.Errorf("err = %q, want it to mention %q and no token", err, tc.wantMsg)
			}
		})
	}
}

// TestCredentialSourceFetches uses the source the way a credential file's
// reader would and gets a token for the audience from the runner.
func TestCredentialSourceFetches(t *testing.T) {
	t.Parallel()
	r := githubtest.New(t, githubtest.Options{IDTokenPermission: true})
	step := r.Step(githubtest.Main, nil)
	e, err := New(Config{Getenv: step.Getenv, Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	src, err := e.CredentialSource(testAudience)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, src.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range src.Headers {
		req.Header.Set(k, v.Reveal())
	}
	resp, err := httpclient.New(httpclient.Options{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	if v, _ := body[src.JSONField].(string); v == "" {
		t.Errorf("no %q in the answer", src.JSONField)
	}
	if diff := cmp.Diff([]string{testAudience}, r.Token.Audiences()); diff != "" {
		t.Errorf("audiences (-want +got):\n%s", diff)
	}
}

func TestFileDir(t *testing.T) {
	t.Parallel()
	mounted, old := Paths{HostTemp: "/w/_temp", RunnerTempMounted: true}, Paths{HostTemp: "/w/_temp"}
	tests := []struct {
		name        string
		env         map[string]string
		paths       Paths
		dir, lit    string
		wantErrText string
	}{
		{"mounted", map[string]string{"RUNNER_TEMP": "/github/runner_temp", "HOME": "/github/home"}, mounted,
			"/github/runner_temp", ContainerRunnerTemp, ""},
		{"not mounted", map[string]string{"RUNNER_TEMP": "/w/_temp", "HOME": "/github/home/"}, old,
			"/github/home", ContainerHome, ""},
		{"simulated root", map[string]string{"HOME": "/tmp/root/github/home"}, old, "/tmp/root/github/home", ContainerHome, ""},
		{"HOME unset", map[string]string{}, old, "", "", "not an absolute path"},
		{"HOME on the host", map[string]string{"HOME": "/home/runner"}, old, "", "", "not /github/home"},
		{"HOME a look-alike", map[string]string{"HOME": "/x/notgithub/home"}, old, "", "", "not /github/home"},
		{"relative", map[string]string{"HOME": "github/home"}, old, "", "", "not an absolute path"},
		{"comma", map[string]string{"HOME": "/a,b/github/home"}, old, "", "", "saved state"},
		{"workspace", map[string]string{"HOME": "/ws/github/home", "GITHUB_WORKSPACE": "/ws"}, old, "", "", "workspace"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, lit, err := fileDir(env(tc.env), tc.paths)
			if tc.wantErrText != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrText) {
					t.Fatalf("fileDir = %q, %q, %v; want an error mentioning %q", dir, lit, err, tc.wantErrText)
				}
				return
			}
			if err != nil || dir != tc.dir || lit != tc.lit {
				t.Errorf("fileDir = %q, %q, %v; want %q, %q", dir, lit, err, tc.dir, tc.lit)
			}
		})
	}
}
